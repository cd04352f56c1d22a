/**
 * The lab page's HTML (pure): eta templates embedded in the binary, escaped as HTML, and the
 * Content-Security-Policy that lets only the page's own inline style and script run (by hash:
 * no other script, no other origin, no inline handlers).
 */
import { createHash } from "node:crypto";
import { Eta } from "eta/core";
import layoutTemplate from "../../templates/page/layout.html.eta" with { type: "text" };
import mainTemplate from "../../templates/page/main.html.eta" with { type: "text" };
import loginTemplate from "../../templates/page/login.html.eta" with { type: "text" };
import confirmTemplate from "../../templates/page/confirm.html.eta" with { type: "text" };
import messageTemplate from "../../templates/page/message.html.eta" with { type: "text" };
import css from "../../templates/page/page.css" with { type: "text" };
import js from "../../templates/page/page.js" with { type: "text" };
import type { PageView } from "./view.ts";

const eta = new Eta({ autoEscape: true, autoTrim: [false, "nl"], cache: true, useWith: false });
eta.loadTemplate("@layout", layoutTemplate);
eta.loadTemplate("@main", mainTemplate);
eta.loadTemplate("@login", loginTemplate);
eta.loadTemplate("@confirm", confirmTemplate);
eta.loadTemplate("@message", messageTemplate);

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

/** Everything else is refused: other origins, inline handlers, frames, plugins, base tags. */
export const contentSecurityPolicy = [
  "default-src 'none'",
  `script-src ${sha256(js)}`,
  `style-src ${sha256(css)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export function renderMain(view: PageView, csrf: string): string {
  return eta.render("@main", { view, csrf });
}

function page(project: string, body: string, session?: { csrf: string }): string {
  return eta.render("@layout", { title: `${project} · cslr`, project, css, js, body, signedIn: session !== undefined, csrf: session?.csrf });
}

export function renderPage(view: PageView, csrf: string): string {
  return page(view.project, renderMain(view, csrf), { csrf });
}

export function renderLogin(project: string, error?: string): string {
  return page(project, eta.render("@login", { error }));
}

export function renderConfirmStop(project: string, id: string, csrf: string): string {
  return page(project, eta.render("@confirm", { id, csrf }), { csrf });
}

export function renderMessage(project: string, title: string, text: string, csrf?: string): string {
  return page(project, eta.render("@message", { title, text }), csrf === undefined ? undefined : { csrf });
}
