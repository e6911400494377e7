//! A bounded map in least-recently-used order: a hash index into a slab of
//! nodes linked newest to oldest. Every operation is O(1); memory grows with
//! use up to the capacity and never past it.

use std::collections::HashMap;
use std::hash::Hash;

const NIL: u32 = u32::MAX;

struct Node<K, V> {
    key: K,
    value: V,
    /// Towards the most recently used end.
    newer: u32,
    /// Towards the least recently used end.
    older: u32,
}

pub(crate) struct LruMap<K, V> {
    index: HashMap<K, u32>,
    nodes: Vec<Node<K, V>>,
    /// Slots of `nodes` freed by removals, reused before growing.
    free: Vec<u32>,
    newest: u32,
    oldest: u32,
    capacity: usize,
}

impl<K: Hash + Eq + Copy, V> LruMap<K, V> {
    /// `capacity` is at most `u32::MAX - 1` entries.
    pub fn new(capacity: usize) -> Self {
        LruMap {
            index: HashMap::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            newest: NIL,
            oldest: NIL,
            capacity: capacity.min(NIL as usize - 1),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity
    }

    /// The value of `key`, which becomes the most recently used.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let slot = *self.index.get(key)?;
        self.unlink(slot);
        self.link_newest(slot);
        Some(&mut self.nodes[slot as usize].value)
    }

    /// Adds a key that is not in the map, as the most recently used. Returns
    /// false (and adds nothing) when the map is full: evict first.
    pub fn insert_new(&mut self, key: K, value: V) -> bool {
        debug_assert!(
            !self.index.contains_key(&key),
            "insert_new of a present key"
        );
        if self.is_full() {
            return false;
        }
        let node = Node {
            key,
            value,
            newer: NIL,
            older: NIL,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.nodes[slot as usize] = node;
                slot
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.index.insert(key, slot);
        self.link_newest(slot);
        true
    }

    /// The least recently used entry.
    pub fn oldest(&self) -> Option<(&K, &V)> {
        let node = self.nodes.get(self.oldest as usize)?;
        Some((&node.key, &node.value))
    }

    /// Removes the least recently used entry.
    pub fn pop_oldest(&mut self) -> Option<K> {
        if self.oldest == NIL {
            return None;
        }
        let slot = self.oldest;
        self.unlink(slot);
        let key = self.nodes[slot as usize].key;
        self.index.remove(&key);
        self.free.push(slot);
        Some(key)
    }

    fn unlink(&mut self, slot: u32) {
        let (newer, older) = {
            let node = &self.nodes[slot as usize];
            (node.newer, node.older)
        };
        match newer {
            NIL => self.newest = older,
            newer => self.nodes[newer as usize].older = older,
        }
        match older {
            NIL => self.oldest = newer,
            older => self.nodes[older as usize].newer = newer,
        }
    }

    fn link_newest(&mut self, slot: u32) {
        let previous = self.newest;
        {
            let node = &mut self.nodes[slot as usize];
            node.newer = NIL;
            node.older = previous;
        }
        match previous {
            NIL => self.oldest = slot,
            previous => self.nodes[previous as usize].newer = slot,
        }
        self.newest = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_oldest_first(map: &mut LruMap<u32, u32>) -> Vec<u32> {
        let mut keys = Vec::new();
        while let Some(key) = map.pop_oldest() {
            keys.push(key);
        }
        keys
    }

    #[test]
    fn entries_leave_in_least_recently_used_order() {
        let mut map = LruMap::new(3);
        assert!(map.insert_new(1, 10));
        assert!(map.insert_new(2, 20));
        assert!(map.insert_new(3, 30));
        assert!(map.is_full());
        assert!(!map.insert_new(4, 40), "full");
        *map.get_mut(&1).unwrap() += 1;
        assert_eq!(map.oldest(), Some((&2, &20)));
        assert_eq!(map.get_mut(&9), None);
        assert_eq!(keys_oldest_first(&mut map), vec![2, 3, 1]);
        assert_eq!(map.len(), 0);
        assert_eq!(map.oldest(), None);
    }

    #[test]
    fn freed_slots_are_reused() {
        let mut map = LruMap::new(2);
        for key in 0..1000 {
            if map.is_full() {
                map.pop_oldest();
            }
            assert!(map.insert_new(key, key));
        }
        assert_eq!(map.nodes.len(), 2, "the slab never grew past the capacity");
        assert_eq!(*map.get_mut(&999).unwrap(), 999);
        assert_eq!(keys_oldest_first(&mut map), vec![998, 999]);
    }

    #[test]
    fn a_single_entry_map_works() {
        let mut map = LruMap::new(1);
        assert!(map.insert_new(7, 0));
        assert_eq!(map.get_mut(&7), Some(&mut 0));
        assert_eq!(map.pop_oldest(), Some(7));
        assert!(map.insert_new(8, 0));
        assert_eq!(map.oldest(), Some((&8, &0)));
    }
}
