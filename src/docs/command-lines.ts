/**
 * Pure: the cslr command lines a Markdown document shows, so a test can hold the README to
 * "every command in it runs as written": the lines of its ```sh blocks and its inline code
 * spans, cut at shell operators (`&&`, `|`, `;`, `$(`, `<(`), comments dropped, keeping the
 * pieces that call cslr (`cslr …` or `./dist/cslr …`), each split into words.
 */

export interface CommandLine {
  /** 1-based line of the document where it appears. */
  line: number;
  /** As written, for the failure message. */
  text: string;
  /** The words after the program's name. */
  words: string[];
}

const program = /^(?:\.\/dist\/)?cslr$/;

/** Words of one shell command: quotes group, and are removed; no expansion. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

function commandsIn(text: string, line: number): CommandLine[] {
  const out: CommandLine[] = [];
  const withoutComment = text.replace(/(^|\s)#.*$/, "");
  for (const piece of withoutComment.split(/&&|\|\||\||;|\$\(|<\(|\)/)) {
    const words = shellWords(piece.trim());
    // The program named alone (`the cslr binary`) is a name, not a command line.
    if (words.length > 1 && program.test(words[0]!)) out.push({ line, text: piece.trim(), words: words.slice(1) });
  }
  return out;
}

/** Every cslr command line of the document, in order. */
export function documentCommandLines(markdown: string): CommandLine[] {
  const out: CommandLine[] = [];
  let fence: string | undefined;
  markdown.split("\n").forEach((text, index) => {
    const line = index + 1;
    const opening = /^\s*```(\S*)/.exec(text);
    if (opening) {
      fence = fence === undefined ? opening[1]! : undefined;
      return;
    }
    if (fence === "sh") out.push(...commandsIn(text, line));
    else if (fence === undefined) for (const span of text.matchAll(/`([^`]+)`/g)) out.push(...commandsIn(span[1]!, line));
  });
  return out;
}
