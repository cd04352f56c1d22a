/**
 * Who may see the lab page (pure, Node crypto only). Signing in with the cluster token gives a
 * cookie that holds an expiry and an HMAC of it under a key derived from the token: the token
 * itself is never in a cookie or URL, a stolen cookie dies at its expiry, and rotating the
 * token (cslr secrets rotate, then a restart of the service) ends every session. POSTs carry a
 * CSRF value (an HMAC of the session cookie) in the form and must come from the page's own
 * origin; the cookie is SameSite=Strict besides.
 */
import { createHmac } from "node:crypto";
import { sameSecret } from "../election/auth.ts";

export const sessionCookie = "cslr_session";
export const sessionLifetimeMs = 12 * 3600_000;

function pageKey(clusterToken: string): string {
  return createHmac("sha256", clusterToken).update("cslr page session key v1").digest("hex");
}

function mac(clusterToken: string, label: string, value: string): string {
  return createHmac("sha256", pageKey(clusterToken)).update(`${label}\0${value}`).digest("base64url");
}

/** A fresh session value: `v1.<expiry ms>.<mac>`. */
export function newSession(clusterToken: string, now: number): string {
  const expiry = String(now + sessionLifetimeMs);
  return `v1.${expiry}.${mac(clusterToken, "session", expiry)}`;
}

/** True when the value is a session this token signed and it has not expired. */
export function validSession(clusterToken: string, value: string | undefined, now: number): boolean {
  const match = /^v1\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value ?? "");
  if (!match) return false;
  return sameSecret(match[2]!, mac(clusterToken, "session", match[1]!)) && Number(match[1]) > now;
}

/** The CSRF value for forms of a session. */
export function csrfFor(clusterToken: string, session: string): string {
  return mac(clusterToken, "csrf", session);
}

export function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header: HttpOnly, SameSite=Strict, Secure when the page is served over HTTPS. */
export function sessionSetCookie(value: string, secure: boolean): string {
  return `${sessionCookie}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessionLifetimeMs / 1000}${secure ? "; Secure" : ""}`;
}

export function clearSessionCookie(secure: boolean): string {
  return `${sessionCookie}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

/**
 * A POST came from the page itself: the browser's Origin (or, lacking one, Referer) names this
 * very host. Browsers send Origin on every cross-site POST, so a form on another site fails here.
 */
export function sameOrigin(req: Request, url: URL): boolean {
  const origin = req.headers.get("origin") ?? req.headers.get("referer");
  if (!origin) return false;
  try {
    const from = new URL(origin);
    return from.host === url.host && from.protocol === url.protocol;
  } catch {
    return false;
  }
}
