/**
 * Which paths of a working directory stay out of the job's package (pure).
 *
 * Semantics are git's (gitignore(5)), applied to `.gitignore` and `.rayignore` files at every
 * level of the tree: the last matching pattern wins, a deeper file's patterns come after (and so
 * override) a shallower one's, `!pattern` re-includes, a trailing `/` matches directories only,
 * and nothing inside an excluded directory can be re-included. In one directory `.rayignore`
 * comes after `.gitignore`, so it can re-include a file git ignores (`!data/small.csv`).
 *
 * Ray 2.60 differs in one corner (python/ray/_private/runtime_env/packaging.py,
 * `_dir_travel` / `get_excludes_from_ignore_files`): it ORs every ignore file as a separate
 * matcher, so a nested `!pattern` cannot re-include what a parent file excluded. cslr follows
 * git, which is what the user's `.gitignore` already means to them.
 *
 * Matching is case-sensitive on every OS, so one tree gives one package wherever it is packed.
 */
import ignore, { type Ignore } from "ignore";

/**
 * Names skipped at any depth, file or directory, whatever the ignore files say. Ray 2.60 skips
 * the first four by default (ray_constants.RAY_RUNTIME_ENV_DEFAULT_EXCLUDES); JavaScript
 * dependencies are never needed by a Ray job and are often the largest thing in a project.
 */
export const alwaysSkipped: ReadonlySet<string> = new Set([".git", ".venv", "venv", "__pycache__", "node_modules"]);

/**
 * Files that may hold secrets, never packed whatever the ignore files say (a `!` cannot bring
 * them back): the project's `.env` and its variants, `_build/` (generated from it), private keys
 * and certificates. Each skip is named in a note, so the user knows what the job will not see.
 */
export function secretSkip(name: string, isDirectory: boolean): string | undefined {
  if (isDirectory) return name === "_build" ? "cslr's generated folder, next to the secrets" : undefined;
  if (name === ".env" || name.startsWith(".env.")) return "may hold secrets (.env files are never uploaded)";
  if (/\.(pem|key|p12|pfx)$/i.test(name)) return "a key or certificate (never uploaded)";
  if (/^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/.test(name)) return "an SSH private key (never uploaded)";
  return undefined;
}

/** Ignore files read in each directory, in this order. */
export const ignoreFileNames = [".gitignore", ".rayignore"] as const;

/** The patterns in force in one directory, every pattern relative to the working directory. */
export interface IgnoreRules {
  readonly patterns: readonly string[];
  readonly matcher: Ignore;
}

export const noRules: IgnoreRules = rulesOf([]);

function rulesOf(patterns: readonly string[]): IgnoreRules {
  return { patterns, matcher: ignore({ ignorecase: false }).add(patterns) };
}

/**
 * Rewrites one line of the ignore file in directory `base` ("" for the working directory, else
 * "a/b") so that it means the same thing relative to the working directory; undefined for blank
 * lines and comments. A pattern with a slash before its end is anchored to `base`; one without
 * matches at any depth below `base` (gitignore(5), "PATTERN FORMAT").
 */
export function rebasePattern(line: string, base: string): string | undefined {
  const text = line.replace(/\r$/, "");
  if (text.trim() === "" || text.startsWith("#")) return undefined;
  if (base === "") return text;
  const negated = text.startsWith("!");
  const pattern = negated ? text.slice(1) : text;
  const body = pattern.replace(/\/+$/, "");
  if (body === "") return undefined;
  const anchored = body.includes("/");
  const rebased = anchored ? `${base}/${pattern.replace(/^\/+/, "")}` : `${base}/**/${pattern}`;
  return negated ? `!${rebased}` : rebased;
}

/** The rules in force in directory `base`: the parent's, then this directory's ignore files. */
export function childRules(parent: IgnoreRules, base: string, ignoreFileTexts: readonly string[]): IgnoreRules {
  const added: string[] = [];
  for (const text of ignoreFileTexts) {
    for (const line of text.split("\n")) {
      const pattern = rebasePattern(line, base);
      if (pattern !== undefined) added.push(pattern);
    }
  }
  return added.length === 0 ? parent : rulesOf([...parent.patterns, ...added]);
}

/** Is `path` (relative to the working directory, `/`-separated) left out of the package? */
export function isIgnored(rules: IgnoreRules, path: string, isDirectory: boolean): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (alwaysSkipped.has(name)) return true;
  return rules.matcher.ignores(isDirectory ? `${path}/` : path);
}
