/**
 * The git commit a working directory is at, for the job's metadata. Asks git itself (a
 * worktree, a submodule or packed refs make reading .git by hand error-prone); without git, or
 * outside a repository, there is simply no commit to record.
 */
import type { GitInfo } from "./submit.ts";

function git(dir: string, args: string[]): string | undefined {
  try {
    const result = Bun.spawnSync(["git", "-C", dir, ...args], { stdout: "pipe", stderr: "ignore", stdin: "ignore", timeout: 5000 });
    return result.exitCode === 0 ? result.stdout.toString().trim() : undefined;
  } catch {
    return undefined;
  }
}

export function readGitInfo(dir: string): GitInfo | undefined {
  const commit = git(dir, ["rev-parse", "--verify", "-q", "HEAD"]);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const status = git(dir, ["status", "--porcelain", "--untracked-files=no"]);
  return { commit, dirty: status !== undefined && status !== "" };
}
