/**
 * Pure: the command lines `cslr test` runs inside the test client container. Values go in as
 * positional arguments of `bash -c`, never into the script text, so nothing needs quoting.
 * Only bash and coreutils' `timeout` are assumed: both are in every Ray image.
 */

/** Seconds one probe may take before it counts as failed. */
export const probeTimeoutSeconds = 5;

export type Argv = string[];

/** `bash -c SCRIPT cslr-probe ARGS...`: the script sees its values as $1, $2, ... */
function bashProbe(script: string, args: (string | number)[]): Argv {
  return ["timeout", String(probeTimeoutSeconds), "bash", "-c", script, "cslr-probe", ...args.map(String)];
}

/**
 * Exit 0 when something listens at host:port. Opening the connection is not enough: Docker's
 * port proxy accepts on a published port even when nothing listens in the container, then
 * closes at once. A live server (Ray's gRPC ports wait for the client to speak first) keeps
 * the connection open or sends something; so an immediate end of stream means "nobody there".
 */
export function tcpProbe(host: string, port: number): Argv {
  return bashProbe(
    [
      'exec 3<>"/dev/tcp/$1/$2" || exit 2',
      "IFS= read -r -t 0.5 -n 1 _ <&3",
      'if [ $? -eq 1 ]; then echo "$1:$2: connection closed at once (a published port with nothing listening behind it)" >&2; exit 3; fi',
    ].join("\n"),
    [host, port],
  );
}

/**
 * The same over TLS, pinned: Python's ssl (every Ray image has Python; bash cannot speak TLS)
 * reads the certificate the server shows, refuses (exit 8) unless its SHA-256 is the pin, and
 * only then sends the request.
 */
export const pinnedGetScript = `
import hashlib, socket, ssl, sys
host, port, path, pin = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection((host, port), timeout=${probeTimeoutSeconds}) as raw, ctx.wrap_socket(raw) as s:
    if hashlib.sha256(s.getpeercert(True)).hexdigest() != pin:
        sys.exit(f"{host}:{port}: the certificate is not the election service's (pin mismatch)")
    s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: {host}:{port}\\r\\nAccept: application/json\\r\\nConnection: close\\r\\n\\r\\n".encode())
    while chunk := s.recv(65536):
        sys.stdout.buffer.write(chunk)
`.trim();

/** Prints the raw HTTP response of `GET path` (status line, headers, body); over pinned TLS when `pin` is given. */
export function httpGetProbe(host: string, port: number, path: string, pin?: string): Argv {
  if (pin) {
    return [
      "timeout",
      String(probeTimeoutSeconds),
      "bash",
      "-c",
      'PY=$(command -v python3 || command -v python); exec "$PY" -c "$0" "$@"',
      pinnedGetScript,
      host,
      String(port),
      path,
      pin,
    ];
  }
  return bashProbe(
    [
      'exec 3<>"/dev/tcp/$1/$2" || exit 7',
      `printf 'GET %s HTTP/1.1\\r\\nHost: %s:%s\\r\\nAccept: application/json\\r\\nConnection: close\\r\\n\\r\\n' "$3" "$1" "$2" >&3`,
      "cat <&3",
    ].join("\n"),
    [host, port, path],
  );
}

/** A shell test that `python` has the ray package installed, without importing it. */
function findRay(python: string): string {
  return `${python} -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("ray") else 1)' >/dev/null 2>&1`;
}

/** Prints `standin`, `real` or `none`: which Ray the client image has. */
export function rayFlavourProbe(): Argv {
  return bashProbe(
    [
      // Real Ray first, by find_spec rather than `import ray` or `ray --version`: loading Ray takes
      // seconds on a busy 2-core host, past the probe's limit. The stand-in image has no Python Ray.
      `if ${findRay("python3")} || ${findRay("python")}; then echo real`,
      "elif command -v ray >/dev/null && ray --version 2>&1 | grep -qi 'stand-in'; then echo standin",
      "else echo none; fi",
    ].join("\n"),
    [],
  );
}

/**
 * Real Ray: connects with `ray.init("ray://host:port")` and prints one JSON line with the
 * cluster's resources and its alive nodes (address and node manager port), so the worker
 * check can find the test worker among them.
 */
export const rayClientScript = `
import json, sys, ray
ray.init(f"ray://{sys.argv[1]}:{sys.argv[2]}", logging_level="ERROR")
nodes = [{"address": n["NodeManagerAddress"], "port": n["NodeManagerPort"]} for n in ray.nodes() if n.get("Alive")]
print(json.dumps({"resources": ray.cluster_resources(), "nodes": nodes}))
`.trim();

export function rayClientProbe(host: string, port: number): Argv {
  // ray.init through the client server can take longer than a socket probe.
  return ["timeout", "60", "bash", "-c", 'PY=$(command -v python3 || command -v python); exec "$PY" -c "$0" "$1" "$2"', rayClientScript, host, String(port)];
}
