/**
 * Opens a URL in the user's browser: xdg-open on Linux, open on macOS. False when there is no
 * opener (a server without a desktop) or it failed, so the caller prints the URL instead.
 */
export async function openInBrowser(url: string, platform = process.platform, which: (name: string) => string | null = Bun.which): Promise<boolean> {
  const opener = platform === "darwin" ? "open" : "xdg-open";
  const path = which(opener);
  if (!path) return false;
  // The URL is one argv word (never a shell), and it holds no secret.
  const child = Bun.spawn([path, url], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const code = await Promise.race([child.exited, Bun.sleep(5000).then(() => 0)]);
  return code === 0;
}
