/**
 * The lecture's Bob/Jane dialogue as a line protocol, with both sides as pure state machines:
 * `step(state, input) -> { state, replies, close }`. No sockets here.
 *
 * ```
 * client -> Hi. I'm Bob.
 * server <- Hi, Bob. I'm Jane
 * client -> Nice to meet you, Jane.
 * ```
 * then both sides close. Lines are UTF-8 and end in `\n` (`\r\n` is accepted; see LineFramer).
 * When the server cannot go on it sends one line `ERROR <code>: <explanation>` and closes.
 */
import { DEFAULT_MAX_NAME_LENGTH, DEFAULT_SERVER_NAME } from '../defaults.js';
import { InvalidArgumentError } from '../errors.js';
import { validateInteger } from '../validate.js';

/** The codes of the server's `ERROR` lines. */
export const GreetErrorCode = {
  /** The first line is not `Hi. I'm <name>.` (or not UTF-8). */
  MalformedGreeting: 'malformed-greeting',
  /** The name in the first line is empty, too long or has control characters. */
  InvalidName: 'invalid-name',
  /** The last line is not `Nice to meet you, <server name>.` */
  MalformedClosing: 'malformed-closing',
  /** The last line calls the server by another name. */
  WrongName: 'wrong-name',
  /** A line was longer than the server's limit. */
  LineTooLong: 'line-too-long',
  /** The client said nothing for the idle timeout. */
  IdleTimeout: 'idle-timeout',
  /** The whole dialogue took longer than the server allows, however busy the client was. */
  DialogueTimeout: 'dialogue-timeout',
  /** The server had too many connections open (sent instead of the dialogue). */
  TooManyConnections: 'too-many-connections',
} as const;
/** The code of a server's `ERROR` line. */
export type GreetErrorCode = (typeof GreetErrorCode)[keyof typeof GreetErrorCode];

/** `Hi. I'm Bob.`: the client's first line. */
export function formatGreeting(clientName: string): string {
  return `Hi. I'm ${clientName}.`;
}

/** `Hi, Bob. I'm Jane`: the server's answer (without a final period, as in the lecture). */
export function formatAnswer(clientName: string, serverName: string): string {
  return `Hi, ${clientName}. I'm ${serverName}`;
}

/** `Nice to meet you, Jane.`: the client's last line. */
export function formatClosing(serverName: string): string {
  return `Nice to meet you, ${serverName}.`;
}

/** `ERROR <code>: <explanation>`: the server's one error line before it closes. */
export function formatGreetError(code: GreetErrorCode, explanation: string): string {
  return `ERROR ${code}: ${explanation}`;
}

/** Splits an `ERROR <code>: <explanation>` line; `undefined` if the line is not one. */
export function parseGreetError(line: string):
  | {
      /** The error code (`too-many-connections`, ...). */
      code: string;
      /** The words after the code, for a person. */
      explanation: string;
    }
  | undefined {
  const match = /^ERROR ([a-z-]+): ?(.*)$/su.exec(line);
  if (match === null) return undefined;
  return { code: match[1] as string, explanation: match[2] as string };
}

/** A line as bytes on the wire: UTF-8 and `\n`. */
export function encodeLine(line: string): Buffer {
  return Buffer.from(`${line}\n`, 'utf8');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes a line's bytes as UTF-8; `undefined` if they are not valid UTF-8. */
export function decodeLine(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

// Control, format, surrogate, private-use and unassigned characters, and line separators, except
// the zero-width (non-)joiners that some scripts and emoji need.
const FORBIDDEN = /[\p{Cc}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}]|(?![\u200c\u200d])\p{Cf}/u;
const VISIBLE = /[\p{L}\p{N}\p{S}]/u;

/**
 * Why a name is not acceptable, or `undefined` if it is. A name is 1 to `maxLength` characters
 * (code points, after NFC normalisation) of printable text, in any script (`Bob`, `밥`, `Anne-Marie`,
 * `Dr. Kim`), with at least one letter, digit or symbol, and no leading or trailing space.
 */
export function checkName(name: string, maxLength = DEFAULT_MAX_NAME_LENGTH): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'the name is empty';
  const length = [...name.normalize('NFC')].length;
  if (length > maxLength) return `the name has ${length} characters, more than ${maxLength}`;
  if (FORBIDDEN.test(name)) return 'the name has a control or invisible character';
  if (name.trim() !== name) return 'the name starts or ends with a space';
  // "Hi. I'm Jane Jr.." cannot be told from "Hi. I'm Jane Jr.": the dialogue's own period ends it.
  if (/[.!]$/.test(name))
    return 'the name ends with a period or "!", which the dialogue would take for its own';
  if (!VISIBLE.test(name)) return 'the name has no letter, digit or symbol';
  return undefined;
}

/** Checks a name for an option (`--name`), NFC-normalised. Throws {@link InvalidArgumentError}. */
export function validateName(name: string, maxLength = DEFAULT_MAX_NAME_LENGTH): string {
  const problem = checkName(name, maxLength);
  if (problem !== undefined) throw new InvalidArgumentError(`invalid name '${String(name)}': ${problem}`);
  return name.normalize('NFC');
}

// Forgiving about what a person types: "hi, i'm bob", "Hi. I’m Bob" (typographic apostrophe), and
// the lecture's own "I' m".
const GREETING = /^hi[.,!]?\s+i ?['’] ?m\s+(.*?)\s*\.?$/iu;
const CLOSING = /^nice to meet you[,.]?\s+(.*?)\s*[.!]?$/iu;

/** The name in a greeting line (`Hi. I'm Bob.` -> `Bob`), unchecked; `undefined` if malformed. */
export function parseGreeting(line: string): string | undefined {
  const match = GREETING.exec(line);
  const name = match?.[1];
  return name === undefined || name === '' ? undefined : name.normalize('NFC');
}

/** The name in a closing line (`Nice to meet you, Jane.` -> `Jane`); `undefined` if malformed. */
export function parseClosing(line: string): string | undefined {
  const name = CLOSING.exec(line)?.[1];
  return name === undefined || name === '' ? undefined : name.normalize('NFC');
}

/** The server's name in its answer to `clientName`; `undefined` if the line is not that answer. */
export function parseAnswer(line: string, clientName: string): string | undefined {
  const prefix = `Hi, ${clientName}. I'm `;
  const normalized = line.normalize('NFC');
  if (!normalized.startsWith(prefix)) return undefined;
  const rest = normalized.slice(prefix.length);
  const name = rest.endsWith('.') ? rest.slice(0, -1) : rest;
  return name === '' ? undefined : name;
}

/** What one step of a dialogue produced. */
export interface GreetStep<S> {
  /** The next state. */
  state: S;
  /** Lines to send, in order, without their `\n`. */
  replies: string[];
  /** Close after sending the replies. */
  close: boolean;
}

/** An input to the server side: a line, or what happened instead. */
export type GreetServerInput =
  | {
      /** A whole line came in. */
      type: 'line';
      /** The line's bytes, without its line end. */
      line: Uint8Array;
    }
  | {
      /** The client sent more than the longest line allowed. */
      type: 'line-too-long';
    }
  | {
      /** The client said nothing for the idle timeout. */
      type: 'idle-timeout';
    }
  | {
      /** The whole dialogue took longer than its bound. */
      type: 'dialogue-timeout';
      /** That bound in ms, quoted in the error line. */
      timeout: number;
    }
  | {
      /** The client closed its side. */
      type: 'eof';
    };

/** How a server-side dialogue ended. */
export type GreetServerOutcome = 'completed' | 'eof' | GreetErrorCode;

/** The server side's state. */
export type GreetServerState = {
  /** The server's name (`Jane`). */
  readonly name: string;
  /** Longest client name accepted, in characters. */
  readonly maxNameLength: number;
  /** Idle timeout in ms, for the explanation sent when it fires. */
  readonly idleTimeout: number;
} & (
  | {
      /** Waiting for the client's greeting. */
      readonly phase: 'greeting';
    }
  | {
      /** Answered; waiting for the client's closing line. */
      readonly phase: 'closing';
      /** The name the client gave. */
      readonly clientName: string;
    }
  | {
      /** The dialogue is over. */
      readonly phase: 'done';
      /** The name the client gave, if it got that far. */
      readonly clientName?: string;
      /** How it ended. */
      readonly outcome: GreetServerOutcome;
    }
);

/** Options of the server side. */
export interface GreetServerConfig {
  /** The server's name. @default 'Jane' */
  name?: string;
  /** Longest client name accepted, in characters. @default 64 */
  maxNameLength?: number;
  /** Idle timeout in ms, quoted in the `idle-timeout` error line. */
  idleTimeout: number;
}

/** The server side before the client's first line. Validates the name. */
export function initialGreetServerState(config: GreetServerConfig): GreetServerState {
  const maxNameLength = validateInteger(
    config.maxNameLength ?? DEFAULT_MAX_NAME_LENGTH,
    'max name length',
    1,
    1000,
  );
  const name = validateName(config.name ?? DEFAULT_SERVER_NAME, maxNameLength);
  return { phase: 'greeting', name, maxNameLength, idleTimeout: config.idleTimeout };
}

/** The server side: answers the greeting, waits for the closing line, then closes. */
export function stepGreetServer(
  state: GreetServerState,
  input: GreetServerInput,
): GreetStep<GreetServerState> {
  if (state.phase === 'done') return { state, replies: [], close: true };
  const clientName = state.phase === 'closing' ? state.clientName : undefined;
  const fail = (code: GreetErrorCode, explanation: string): GreetStep<GreetServerState> => ({
    state: { ...state, phase: 'done', clientName, outcome: code },
    replies: [formatGreetError(code, explanation)],
    close: true,
  });
  switch (input.type) {
    case 'eof':
      return { state: { ...state, phase: 'done', clientName, outcome: 'eof' }, replies: [], close: true };
    case 'idle-timeout':
      return fail(
        GreetErrorCode.IdleTimeout,
        `you said nothing for ${formatSeconds(state.idleTimeout)}, goodbye`,
      );
    case 'line-too-long':
      return fail(GreetErrorCode.LineTooLong, 'that line is too long, goodbye');
    case 'dialogue-timeout':
      return fail(
        GreetErrorCode.DialogueTimeout,
        `the dialogue took longer than ${formatSeconds(input.timeout)}, goodbye`,
      );
    case 'line':
      break;
  }
  const text = decodeLine(input.line);
  if (state.phase === 'greeting') {
    const expected = `expected "Hi. I'm <your name>." (e.g. "Hi. I'm Bob."), a name of 1 to ${state.maxNameLength} characters`;
    const name = text === undefined ? undefined : parseGreeting(text);
    if (name === undefined) return fail(GreetErrorCode.MalformedGreeting, expected);
    const problem = checkName(name, state.maxNameLength);
    if (problem !== undefined) return fail(GreetErrorCode.InvalidName, `${problem}; ${expected}`);
    return {
      state: { ...state, phase: 'closing', clientName: name },
      replies: [formatAnswer(name, state.name)],
      close: false,
    };
  }
  const expected = `expected "${formatClosing(state.name)}"`;
  const name = text === undefined ? undefined : parseClosing(text);
  if (name === undefined) return fail(GreetErrorCode.MalformedClosing, expected);
  if (name.toLowerCase() !== state.name.toLowerCase()) {
    return fail(GreetErrorCode.WrongName, `I'm ${state.name}; ${expected}`);
  }
  return { state: { ...state, phase: 'done', outcome: 'completed' }, replies: [], close: true };
}

/** An input to the client side. */
export type GreetClientInput =
  | {
      /** Connected: time to greet. */
      type: 'start';
    }
  | {
      /** A whole line came in. */
      type: 'line';
      /** The line's bytes, without its line end. */
      line: Uint8Array;
    }
  | {
      /** The server closed its side. */
      type: 'eof';
    };

/** Why a client-side dialogue failed. */
export type GreetClientFailure =
  /** The server sent an `ERROR` line. */
  | {
      /** `server-error`. */
      kind: 'server-error';
      /** The line's error code. */
      code: string;
      /** The whole line, as the server sent it. */
      line: string;
    }
  /** The server's answer was not `Hi, <our name>. I'm <name>`. */
  | {
      /** `malformed-answer`. */
      kind: 'malformed-answer';
      /** The line the server sent instead. */
      line: string;
    }
  /** The server closed before answering. */
  | {
      /** `closed`. */
      kind: 'closed';
    };

/** The client side's state. */
export type GreetClientState = {
  /** Our name (`Bob`). */
  readonly name: string;
} & (
  | {
      /** Not connected yet: nothing said. */
      readonly phase: 'start';
    }
  | {
      /** Greeted; waiting for the server's answer. */
      readonly phase: 'answer';
    }
  | {
      /** The dialogue completed. */
      readonly phase: 'done';
      /** The name the server gave. */
      readonly serverName: string;
    }
  | {
      /** The dialogue failed. */
      readonly phase: 'failed';
      /** Why. */
      readonly failure: GreetClientFailure;
    }
);

/** The client side before it says anything. Validates the name. */
export function initialGreetClientState(
  name: string,
  maxNameLength = DEFAULT_MAX_NAME_LENGTH,
): GreetClientState {
  return { phase: 'start', name: validateName(name, maxNameLength) };
}

/** The client side: greets, reads the answer, says the closing line and closes its side. */
export function stepGreetClient(
  state: GreetClientState,
  input: GreetClientInput,
): GreetStep<GreetClientState> {
  if (state.phase === 'done' || state.phase === 'failed') return { state, replies: [], close: true };
  if (input.type === 'start') {
    if (state.phase !== 'start') return { state, replies: [], close: false };
    return {
      state: { name: state.name, phase: 'answer' },
      replies: [formatGreeting(state.name)],
      close: false,
    };
  }
  const failed = (failure: GreetClientFailure): GreetStep<GreetClientState> => ({
    state: { name: state.name, phase: 'failed', failure },
    replies: [],
    close: true,
  });
  if (input.type === 'eof') return failed({ kind: 'closed' });
  const line = decodeLine(input.line) ?? Buffer.from(input.line).toString('utf8');
  const error = parseGreetError(line);
  if (error !== undefined) return failed({ kind: 'server-error', code: error.code, line });
  const serverName = state.phase === 'answer' ? parseAnswer(line, state.name) : undefined;
  if (serverName === undefined || checkName(serverName, Number.MAX_SAFE_INTEGER) !== undefined) {
    return failed({ kind: 'malformed-answer', line });
  }
  return {
    state: { name: state.name, phase: 'done', serverName },
    replies: [formatClosing(serverName)],
    close: true,
  };
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}
