import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Session } from "./api/session";
import { App } from "./App";
import { AuthProvider } from "./auth/AuthContext";
import { LiveEventsProvider } from "./events/LiveEvents";
import "./styles.css";

const session = new Session();
const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");
createRoot(root).render(
  <StrictMode>
    <AuthProvider session={session}>
      <LiveEventsProvider>
        <App />
      </LiveEventsProvider>
    </AuthProvider>
  </StrictMode>,
);
