/**
 * Virtual time for code that takes its clock and its sleeps as arguments: `run()` jumps from one
 * pending sleep to the next instead of waiting, so a test of a 30-second lease takes milliseconds
 * and never depends on how busy the machine is.
 */
interface Timer {
  at: number;
  wake: () => void;
}

export class VirtualTime {
  t = 0;
  private timers: Timer[] = [];

  now = (): number => this.t;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.t + Math.max(0, ms), wake: resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve();
        },
        { once: true },
      );
    });

  /** Lets every promise chain that can move, move (real macrotask turns, no virtual time passes). */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Advances to each next timer until `done` resolves or `limitMs` of virtual time has passed. */
  async run<T>(done: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let finished = false;
    let value!: T;
    void done.then((v) => {
      finished = true;
      value = v;
    });
    const end = this.t + limitMs;
    for (;;) {
      await this.settle();
      if (finished) return value;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next || next.at > end) throw new Error(`virtual time: nothing finished by t=${this.t} (${next ? "next timer at " + next.at : "no timers left"})`);
      this.t = next.at;
      next.wake();
    }
  }

  /** Advances by `ms`, firing the timers on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await this.settle();
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.wake();
    }
    this.t = end;
    await this.settle();
  }
}
