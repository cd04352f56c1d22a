/**
 * The lab page's routes on the election service, registered through its route table. The page
 * and its data answer only with a valid session cookie (src/page/session.ts); without one, `/`
 * is the sign-in form and everything else is 401 with no data. POSTs need the session, the
 * page's own origin and the form's CSRF value. Works the same over HTTP and HTTPS (the cookie
 * is Secure when the request came over HTTPS).
 */
import { readLimitedBody, type Handler, type RouteContext } from "../election/routes.ts";
import type { PageCollector } from "./collector.ts";
import { renderConfirmStop, renderLogin, renderMain, renderMessage, renderPage, contentSecurityPolicy } from "./render.ts";
import { clearSessionCookie, cookieValue, csrfFor, newSession, sameOrigin, sessionCookie, sessionSetCookie, validSession } from "./session.ts";
import { sameSecret } from "../election/auth.ts";
import { buildPageView } from "./view.ts";

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // Not no-referrer: with it browsers send `Origin: null` on the page's own POSTs, which the origin check refuses.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

function html(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...securityHeaders, "content-type": "text/html; charset=utf-8", ...extra } });
}

function text(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: { ...securityHeaders, "content-type": "text/plain; charset=utf-8" } });
}

function redirect(location: string, extra: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { ...securityHeaders, location, ...extra } });
}

const isHttps = (ctx: RouteContext) => ctx.url.protocol === "https:";

/** The session of the request, or undefined (no token on the service, none sent, wrong or expired). */
function session(ctx: RouteContext): string | undefined {
  const value = cookieValue(ctx.req.headers.get("cookie"), sessionCookie);
  return ctx.token !== undefined && validSession(ctx.token, value, Date.now()) ? value : undefined;
}

const noToken = "this election service runs without a cluster token, so nobody can sign in: set CSLR_CLUSTER_TOKEN (cslr init writes one to .env)";
const signIn = "sign in first: POST the cluster token to /page/login (the form at /)";

/** The form fields of a POST, checked for the session, origin and CSRF value; a Response when any fails. */
async function postedForm(ctx: RouteContext): Promise<{ form: URLSearchParams; session: string } | Response> {
  const current = session(ctx);
  if (!current) return text(401, signIn);
  if (!sameOrigin(ctx.req, ctx.url)) return text(403, "this form must be posted from the page itself (Origin does not match)");
  const raw = await readLimitedBody(ctx.req);
  if (raw === null) return text(413, "form too large");
  const form = new URLSearchParams(raw);
  if (!sameSecret(form.get("csrf") ?? "", csrfFor(ctx.token!, current))) return text(403, "the form's CSRF value is missing or wrong; reload the page");
  return { form, session: current };
}

export function pageRoutes(collector: PageCollector): Record<string, Handler> {
  const project = () => collector.inputs().project;
  return {
    "GET /": async (ctx) => {
      if (ctx.token === undefined) return html(503, renderMessage(project(), "No sign-in", noToken));
      const current = session(ctx);
      if (!current) return html(200, renderLogin(project()));
      await collector.touch();
      return html(200, renderPage(buildPageView(collector.inputs()), csrfFor(ctx.token, current)));
    },

    "POST /page/login": async (ctx) => {
      if (ctx.token === undefined) return html(503, renderMessage(project(), "No sign-in", noToken));
      if (!sameOrigin(ctx.req, ctx.url)) return text(403, "sign in from the page itself (Origin does not match)");
      const raw = await readLimitedBody(ctx.req);
      if (raw === null) return text(413, "form too large");
      const presented = new URLSearchParams(raw).get("token") ?? "";
      if (!sameSecret(presented, ctx.token)) return html(401, renderLogin(project(), "wrong token; use CSLR_CLUSTER_TOKEN from the coordinator's .env"));
      return redirect("/", { "set-cookie": sessionSetCookie(newSession(ctx.token, Date.now()), isHttps(ctx)) });
    },

    "POST /page/logout": async (ctx) => {
      const posted = await postedForm(ctx);
      if (posted instanceof Response) return posted;
      return redirect("/", { "set-cookie": clearSessionCookie(isHttps(ctx)) });
    },

    /** The live part of the page, for the page's script; 304 while it has not changed. */
    "GET /page/main": async (ctx) => {
      const current = session(ctx);
      if (!current) return text(401, signIn);
      await collector.touch();
      const body = renderMain(buildPageView(collector.inputs()), csrfFor(ctx.token!, current));
      const etag = `"${Bun.hash(body).toString(36)}"`;
      if (ctx.req.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers: { ...securityHeaders, etag } });
      return html(200, body, { etag });
    },

    /** The page's data as JSON, for scripts. */
    "GET /page/data.json": async (ctx) => {
      if (!session(ctx)) return text(401, signIn);
      await collector.touch();
      return Response.json(buildPageView(collector.inputs()), { headers: securityHeaders });
    },

    "POST /page/stop": (ctx) => stopJobRoute(collector, ctx),
  };
}

/** The stop button: asks first (a confirmation page), then stops the job through the head's Jobs API. */
async function stopJobRoute(collector: PageCollector, ctx: RouteContext): Promise<Response> {
  const project = collector.inputs().project;
  const posted = await postedForm(ctx);
  if (posted instanceof Response) return posted;
  const id = posted.form.get("job") ?? "";
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) return text(400, "job: expected a submission id like raysubmit_abc123");
  const csrf = csrfFor(ctx.token!, posted.session);
  if (posted.form.get("confirmed") !== "yes") return html(200, renderConfirmStop(project, id, csrf));
  try {
    const stopped = await collector.stopJob(id);
    return html(
      200,
      renderMessage(
        project,
        stopped ? `Stopping ${id}` : `${id} had already ended`,
        stopped ? "Ray is stopping the job; the page shows STOPPED once it has." : "Nothing to stop.",
        csrf,
      ),
    );
  } catch (error) {
    return html(502, renderMessage(project, `Could not stop ${id}`, (error as Error).message.split("\n")[0]!, csrf));
  }
}
