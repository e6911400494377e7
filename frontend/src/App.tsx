import { useState } from "react";
import { messageFor } from "./api/problem";
import { useAuth } from "./auth/AuthContext";
import { Alert } from "./components/Alert";
import { Page } from "./components/Page";
import { VerifyEmailBanner } from "./components/VerifyEmailBanner";
import { AdminPage } from "./pages/AdminPage";
import { ConfirmEmailPage } from "./pages/ConfirmEmailPage";
import { ForgotPasswordPage } from "./pages/ForgotPasswordPage";
import { LoginPage } from "./pages/LoginPage";
import { ProfilePage } from "./pages/ProfilePage";
import { RegisterPage } from "./pages/RegisterPage";
import { ResetPasswordPage } from "./pages/ResetPasswordPage";
import { UploadsPage } from "./pages/UploadsPage";
import { VerifyEmailPage } from "./pages/VerifyEmailPage";
import { Link, Redirect, navigate, useLocation } from "./router";

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing at this address. <Link href="/">Go to the start page</Link>.
      </p>
    </Page>
  );
}

function Forbidden() {
  return (
    <Page title="Not allowed">
      <p>This page is for administrators.</p>
    </Page>
  );
}

function Header() {
  const auth = useAuth();
  const { path } = useLocation();
  const [error, setError] = useState<string | null>(null);
  const current = (href: string) => (path === href ? "page" : undefined);
  const logout = async () => {
    try {
      await auth.logout();
      setError(null);
    } catch (e) {
      setError(messageFor(e));
    }
    navigate("/login", { replace: true });
  };
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="nav" aria-label="Main">
        <Link href="/" className="brand">
          Spinstack
        </Link>
        {auth.status === "signedIn" ? (
          <ul>
            <li>
              <Link href="/uploads" aria-current={current("/uploads")}>
                Uploads
              </Link>
            </li>
            <li>
              <Link href="/profile" aria-current={current("/profile")}>
                Profile
              </Link>
            </li>
            {auth.user?.role === "admin" && (
              <li>
                <Link href="/admin" aria-current={current("/admin")}>
                  Admin
                </Link>
              </li>
            )}
            <li>
              <button type="button" className="link-button" onClick={logout}>
                Log out
              </button>
            </li>
          </ul>
        ) : auth.status === "signedOut" ? (
          <ul>
            <li>
              <Link href="/login" aria-current={current("/login")}>
                Log in
              </Link>
            </li>
            <li>
              <Link href="/register" aria-current={current("/register")}>
                Register
              </Link>
            </li>
          </ul>
        ) : null}
      </nav>
      {error && <Alert>{error}</Alert>}
    </header>
  );
}

function Routes() {
  const { status, user, userError } = useAuth();
  const { path } = useLocation();
  if (status === "loading") {
    return (
      <p className="loading" aria-live="polite">
        Loading…
      </p>
    );
  }
  const signedIn = status === "signedIn";
  const needSignIn = <Redirect to={`/login?next=${encodeURIComponent(path)}`} />;
  switch (path) {
    case "/":
      return <Redirect to={signedIn ? "/uploads" : "/login"} />;
    case "/login":
      return signedIn ? <Redirect to="/uploads" /> : <LoginPage />;
    case "/register":
      return signedIn ? <Redirect to="/uploads" /> : <RegisterPage />;
    case "/forgot-password":
      return signedIn ? <Redirect to="/uploads" /> : <ForgotPasswordPage />;
    // The links in account mail: they work signed in or out.
    case "/reset-password":
      return <ResetPasswordPage />;
    case "/verify-email":
      return <VerifyEmailPage />;
    case "/confirm-email":
      return <ConfirmEmailPage />;
    case "/uploads":
      return signedIn ? <UploadsPage /> : needSignIn;
    case "/profile":
      return signedIn ? <ProfilePage /> : needSignIn;
    case "/admin":
      if (!signedIn) return needSignIn;
      if (user?.role === "admin") return <AdminPage />;
      return user || userError ? <Forbidden /> : null;
    default:
      return <NotFound />;
  }
}

export function App() {
  const { status, userError } = useAuth();
  return (
    <>
      <Header />
      <main id="main" className="main">
        {status === "signedIn" && userError && <Alert>Your account could not be loaded: {userError}</Alert>}
        {status === "signedIn" && <VerifyEmailBanner />}
        <Routes />
      </main>
    </>
  );
}
