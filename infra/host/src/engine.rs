//! The Wasmtime engine, configured for many short-lived instances: the pooling
//! allocator with copy-on-write memory images (instantiation maps memory
//! rather than copying it), memory kept resident between uses, and epoch
//! interruption for per-request deadlines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of request deadlines and of
/// the cooperative yields that keep a busy guest from starving its thread.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct EngineLimits {
    /// Instances that may be live at once (pool slots).
    pub max_instances: u32,
    /// Linear-memory cap of one instance, in bytes.
    pub max_instance_memory: usize,
}

pub fn build_engine(limits: &EngineLimits) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.memory_init_cow(true);

    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(limits.max_instances);
    // A spin-sdk component holds a handful of core instances and one memory
    // and table each; leave headroom for richer components.
    pool.max_core_instances_per_component(32);
    pool.max_memories_per_component(4);
    pool.max_tables_per_component(8);
    pool.total_core_instances(limits.max_instances * 8);
    pool.total_memories(limits.max_instances * 2);
    pool.total_tables(limits.max_instances * 4);
    pool.total_stacks(limits.max_instances);
    pool.max_memory_size(limits.max_instance_memory);
    pool.table_elements(100_000);
    pool.max_component_instance_size(1 << 20);
    pool.max_core_instance_size(1 << 20);
    // Reuse a slot's pages instead of returning them to the kernel after each
    // request. With PAGEMAP_SCAN (Linux 6.7+) Wasmtime finds the pages a
    // request dirtied and resets only those, so a large keep-resident window
    // costs nothing for small requests and saves the madvise (and the TLB
    // shootdown IPIs it sends to every core) that profiles showed as the
    // largest per-request cost. Older kernels fall back to memset.
    pool.pagemap_scan(wasmtime::Enabled::Auto);
    pool.linear_memory_keep_resident(4 << 20);
    pool.table_keep_resident(1 << 16);
    pool.async_stack_keep_resident(1 << 16);
    // What must still be decommitted is flushed in batches: one TLB flush
    // per batch instead of per instance.
    pool.decommit_batch_size(32);
    pool.max_unused_warm_slots(limits.max_instances.min(100));
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

    Ok(Engine::new(&config)?)
}

/// Advances the engine's epoch every tick until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn epoch ticker");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
