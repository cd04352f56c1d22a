/** A minimal RESP client over a real socket: enough to AUTH, SET and GET from the host. */

export type Reply = string | number | null | { error: string };

/** Parses complete RESP replies from the front of `text`; returns them and what is left. */
export function parseReplies(text: string): { replies: Reply[]; rest: string } {
  const replies: Reply[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf("\r\n");
    if (end < 0) break;
    const line = rest.slice(1, end);
    const kind = rest[0];
    if (kind === "+") replies.push(line);
    else if (kind === "-") replies.push({ error: line });
    else if (kind === ":") replies.push(Number(line));
    else if (kind === "$") {
      const size = Number(line);
      if (size < 0) replies.push(null);
      else {
        if (rest.length < end + 2 + size + 2) break;
        replies.push(rest.slice(end + 2, end + 2 + size));
        rest = rest.slice(end + 2 + size + 2);
        continue;
      }
    } else throw new Error(`unexpected RESP reply: ${JSON.stringify(rest.slice(0, 40))}`);
    rest = rest.slice(end + 2);
  }
  return { replies, rest };
}

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** Sends the commands pipelined and resolves with one reply per command (5 s limit). */
export async function redisCommands(port: number, commands: string[][]): Promise<Reply[]> {
  return await new Promise<Reply[]>((resolve, reject) => {
    let buffer = "";
    const collected: Reply[] = [];
    const timer = setTimeout(() => reject(new Error(`redis on port ${port}: no full answer within 5 s (got ${JSON.stringify(collected)})`)), 5000);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(commands.map(encode).join(""));
        },
        data(socket, data) {
          buffer += data.toString();
          const { replies, rest } = parseReplies(buffer);
          buffer = rest;
          collected.push(...replies);
          if (collected.length >= commands.length) {
            clearTimeout(timer);
            socket.end();
            resolve(collected);
          }
        },
        close() {
          if (collected.length < commands.length) {
            clearTimeout(timer);
            reject(new Error(`redis on port ${port} closed after ${collected.length} of ${commands.length} replies`));
          }
        },
        error(_socket, error) {
          clearTimeout(timer);
          reject(error);
        },
      },
    }).catch((error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
