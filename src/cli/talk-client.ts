/**
 * `hclient --service greet|echo`: the client sides of the two conversations, for the terminal.
 * greet prints the dialogue as it happens; echo is the textbook's echo client (prompt, send a
 * line, print `Message from server: <line>`, `q`/`Q` or end of input quits).
 */
import { ProtocolError } from '../errors.js';
import { EchoLineSplitter, formatEchoLine, isQuitLine } from '../protocol/echo-client.js';
import { validateName } from '../protocol/greet.js';
import { openEcho } from '../services/echo.js';
import { type GreetLine, greet } from '../services/greet.js';
import { streamTarget } from '../transport/tcp-client.js';
import type { TlsClientOptions } from '../transport/tls-client.js';

/** The TCP echo client's prompt (the textbook's), shown only when standard input is a terminal. */
export const TCP_ECHO_PROMPT = 'Input message(Q to quit): ';

/**
 * Checks and NFC-normalises a greet name. A bad name throws the library's InvalidArgumentError,
 * which runCli prints as `<program>: invalid name ...`.
 */
export { validateName };

/** Where the conversation goes: stdout and stdin by default. */
export interface TalkIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
}

/** Connection settings shared by both services. */
export interface TalkTarget {
  /** The server's host and port, or its Unix socket `path`. */
  host?: string;
  port?: number;
  path?: string;
  timeout: number | undefined;
  signal: AbortSignal;
  /** Speak TLS (hclient --tls). */
  tls?: TlsClientOptions | undefined;
}

/** `[client] Bob: Hi. I'm Bob.`: one line of the dialogue as hclient prints it. */
export function formatGreetLine(line: GreetLine): string {
  return `[${line.speaker}] ${line.name}: ${line.text}\n`;
}

/** Holds the greet dialogue, printing each line as it is said. */
export async function runGreetClient(target: TalkTarget, name: string, io: TalkIo): Promise<void> {
  await greet({ ...target, name, onLine: (line) => io.output.write(formatGreetLine(line)) });
}

/**
 * The textbook's echo client: for each line of input, send it with its `\n`, read until all of it has
 * come back, print it. Prompts only when the input is a terminal.
 */
export async function runEchoClient(target: TalkTarget, io: TalkIo): Promise<void> {
  const session = await openEcho(target);
  // Lines are cut as bytes, never decoded: input that is not UTF-8 (a file, a pipe) goes out and
  // comes back byte for byte, and each line keeps its own ending (`\r\n` too).
  const lines = readByteLines(io.input)[Symbol.asyncIterator]();
  // A signal ends the wait for input at once (a read of the terminal is no socket call it reaches).
  let onAbort = () => {};
  const aborted = new Promise<IteratorResult<Buffer>>((resolve) => {
    onAbort = () => resolve({ done: true, value: undefined });
  });
  target.signal.addEventListener('abort', onAbort, { once: true });
  const interactive = io.input.isTTY === true;
  try {
    if (interactive) io.output.write(TCP_ECHO_PROMPT);
    for (;;) {
      const next = await Promise.race([lines.next(), aborted]);
      if (next.done === true || isQuitLine(next.value)) break;
      const sent = next.value;
      const back = await session.echo(sent);
      // Something else than an echo (a greet or hello server on that port): say so, exit 1.
      if (!back.equals(sent)) {
        throw new ProtocolError(
          `${streamTarget(target).target} is not an echo server: it answered ${JSON.stringify(back.toString('utf8'))} to ${JSON.stringify(sent.toString('utf8'))}`,
          { call: 'read' },
        );
      }
      io.output.write(formatEchoLine(back));
      if (interactive) io.output.write(TCP_ECHO_PROMPT);
    }
  } catch (error) {
    await session.close().catch(() => {});
    throw error;
  } finally {
    target.signal.removeEventListener('abort', onAbort);
    // Not awaited: after a signal, a read of the input may still be pending (the program exits).
    void lines.return(undefined);
  }
  await session.close();
}

/** The input's lines as bytes, each with its newline (the last may lack one, at end of input). */
async function* readByteLines(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  // A TCP line has no datagram's size limit; like a line read by fgets in a loop, any length goes.
  const splitter = new EchoLineSplitter(Number.MAX_SAFE_INTEGER);
  for await (const chunk of input) {
    yield* splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  const last = splitter.end();
  if (last !== undefined) yield last;
}
