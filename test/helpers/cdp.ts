/**
 * A tiny Chrome DevTools Protocol client: headless Chromium (Debian's `chromium`) driven over
 * its WebSocket from Bun, without puppeteer (which downloads a browser). Enough for the page's
 * e2e: open a tab, navigate, run an expression, wait for a condition, accept dialogs, read
 * cookies and take screenshots.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The Chromium binary, or undefined when it is not installed. */
export function chromiumPath(): string | undefined {
  return Bun.which("chromium") ?? Bun.which("chromium-browser") ?? undefined;
}

type Pending = { resolve: (value: any) => void; reject: (error: Error) => void; method: string };

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: ((method: string, params: any, sessionId?: string) => void)[] = [];

  private constructor(
    private readonly proc: Bun.Subprocess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`${waiter.method}: ${message.error.message}`));
        else waiter?.resolve(message.result);
      } else for (const listener of this.listeners) listener(message.method, message.params, message.sessionId);
    };
  }

  /** Starts headless Chromium with a throw-away profile and connects to it. */
  static async launch(): Promise<Browser> {
    const binary = chromiumPath();
    if (!binary) throw new Error("chromium is not installed (apt-get install -y --no-install-recommends chromium)");
    const profile = mkdtempSync(join(tmpdir(), "cslr-cdp-"));
    const proc = Bun.spawn(
      [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--ignore-certificate-errors",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      // TMPDIR: with --disable-dev-shm-usage Chromium keeps its shared memory files there; in the
      // profile folder they go when it is removed (they were left in /tmp, one folder per run).
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, TMPDIR: profile } },
    );
    const url = await (async () => {
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
        if (match) return match[1]!;
      }
      throw new Error(`chromium exited without a DevTools address:\n${text}`);
    })();
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    return new Browser(proc, ws, profile);
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(listener: (method: string, params: any, sessionId?: string) => void): void {
    this.listeners.push(listener);
  }

  /** A new tab of the given size. */
  async newPage(width = 1400, height = 1000): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Network.enable");
    await page.resize(width, height);
    // A dialog (the stop button's confirm) is answered by the test, by default "yes".
    this.on((method, params, session) => {
      if (session === sessionId && method === "Page.javascriptDialogOpening") {
        page.dialogs.push(params.message);
        void page.send("Page.handleJavaScriptDialog", { accept: page.acceptDialogs });
      }
    });
    this.on((method, params, session) => {
      if (session === sessionId && method === "Runtime.consoleAPICalled") page.console.push(params.args.map((a: any) => a.value).join(" "));
      if (session === sessionId && method === "Runtime.exceptionThrown") page.console.push(`exception: ${params.exceptionDetails.text}`);
      if (session === sessionId && method === "Network.requestWillBeSent") page.requests.push(params.request.url);
    });
    return page;
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send("Browser.close"), Bun.sleep(3000)]);
    } catch {}
    this.ws.close();
    this.proc.kill();
    await this.proc.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  readonly dialogs: string[] = [];
  readonly console: string[] = [];
  /** Every URL the tab asked for (to prove nothing left the page's origin). */
  readonly requests: string[] = [];
  acceptDialogs = true;

  constructor(
    private readonly browser: Browser,
    readonly sessionId: string,
  ) {}

  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.browser.send<T>(method, params, this.sessionId);
  }

  async resize(width: number, height: number): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
  }

  /** Navigates and waits until the document has loaded. */
  async goto(url: string, timeoutMs = 15_000): Promise<void> {
    await this.send("Page.navigate", { url });
    await this.waitFor(`document.readyState === "complete" && location.href !== "about:blank"`, timeoutMs);
  }

  /** The value of an expression in the page (promises awaited). */
  async eval<T = unknown>(expression: string): Promise<T> {
    const result = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (result.exceptionDetails) throw new Error(`${expression}: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`);
    return result.result.value as T;
  }

  /** Polls an expression until it is truthy; returns how long that took. */
  async waitFor(expression: string, timeoutMs: number): Promise<number> {
    const start = Date.now();
    for (;;) {
      try {
        if (await this.eval<boolean>(`Boolean(${expression})`)) return Date.now() - start;
      } catch {}
      if (Date.now() - start > timeoutMs) throw new Error(`not true within ${timeoutMs} ms: ${expression}`);
      await Bun.sleep(100);
    }
  }

  /** Text of the document's body. */
  text(): Promise<string> {
    return this.eval<string>("document.body.innerText");
  }

  async cookies(): Promise<{ name: string; value: string; httpOnly: boolean; sameSite?: string; secure: boolean }[]> {
    return (await this.send("Network.getCookies")).cookies;
  }

  /** A PNG of the whole page (beyond the viewport) written to `path`. */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    writeFileSync(path, Buffer.from(data, "base64"));
  }
}

/** describe() with Chromium; else a visible skip, or a failing test under CSLR_E2E_REQUIRED=1 (CI installs it). */
export function describeBrowser(name: string, body: () => void): void {
  const { describe, test } = require("bun:test") as typeof import("bun:test");
  if (chromiumPath()) describe(name, body);
  else if (process.env.CSLR_E2E_REQUIRED === "1") {
    describe(name, () => {
      test("chromium is installed (CSLR_E2E_REQUIRED=1)", () => {
        throw new Error("chromium is not installed: apt-get install -y --no-install-recommends chromium");
      });
    });
  } else {
    console.warn(`browser skipped: ${name}: chromium is not installed`);
    describe.skip(name, body);
  }
}

/** Presses a key in the page (Tab, Enter). */
export async function press(page: Page, key: "Tab" | "Enter", shift = false): Promise<void> {
  const codes = { Tab: 9, Enter: 13 } as const;
  const base = { key, code: key, windowsVirtualKeyCode: codes[key], modifiers: shift ? 8 : 0, ...(key === "Enter" ? { text: "\r" } : {}) };
  await page.send("Input.dispatchKeyEvent", { type: "keyDown", ...base });
  await page.send("Input.dispatchKeyEvent", { type: "keyUp", ...base });
}

/** Types text into the focused element. */
export async function type(page: Page, text: string): Promise<void> {
  await page.send("Input.insertText", { text });
}
