import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkName,
  type GreetClientInput,
  type GreetClientState,
  type GreetServerInput,
  type GreetServerState,
  initialGreetClientState,
  initialGreetServerState,
  parseGreetError,
  stepGreetClient,
  stepGreetServer,
  validateName,
} from '../../src/protocol/greet.js';
import { LineFramer } from '../../src/protocol/line-framer.js';

interface Run {
  replies: string[];
  closed: boolean;
  state: GreetServerState;
}

/**
 * Drives the server side with raw bytes through a framer, as one chunk or byte by byte, the way the
 * service does, and collects the replies until it closes.
 */
function serve(input: Buffer, mode: 'chunk' | 'bytes', { eof = false, maxLineBytes = 64 } = {}): Run {
  let state = initialGreetServerState({ name: 'Jane', idleTimeout: 30_000, maxNameLength: 16 });
  const framer = new LineFramer({ maxLineBytes });
  const replies: string[] = [];
  let closed = false;
  const apply = (event: GreetServerInput) => {
    if (closed) return;
    const step = stepGreetServer(state, event);
    state = step.state;
    replies.push(...step.replies);
    closed = step.close;
  };
  const chunks = mode === 'chunk' ? [input] : [...input].map((b) => Buffer.from([b]));
  for (const chunk of chunks) {
    for (const line of framer.push(chunk)) apply({ type: 'line', line });
    if (framer.overflow !== undefined) apply({ type: 'line-too-long' });
  }
  if (eof) apply({ type: 'eof' });
  return { replies, closed, state };
}

const MODES = ['chunk', 'bytes'] as const;

describe('greet server dialogue', { timeout: 60_000 }, () => {
  for (const mode of MODES) {
    describe(`fed ${mode === 'chunk' ? 'as one chunk' : 'byte by byte'}`, () => {
      test('the lecture dialogue: answer, then close after the closing line', () => {
        const run = serve(Buffer.from("Hi. I'm Bob.\nNice to meet you, Jane.\n"), mode);
        assert.deepEqual(run.replies, ["Hi, Bob. I'm Jane"]);
        assert.equal(run.closed, true);
        assert.equal(run.state.phase === 'done' && run.state.outcome, 'completed');
      });

      test('after the greeting alone it answers and waits', () => {
        const run = serve(Buffer.from("Hi. I'm Bob.\r\n"), mode);
        assert.deepEqual(run.replies, ["Hi, Bob. I'm Jane"]);
        assert.equal(run.closed, false);
        assert.equal(run.state.phase, 'closing');
      });

      test('CRLF and Korean names', () => {
        const run = serve(Buffer.from("Hi. I'm 밥.\r\nNice to meet you, Jane.\r\n", 'utf8'), mode);
        assert.deepEqual(run.replies, ["Hi, 밥. I'm Jane"]);
        assert.equal(run.closed, true);
      });

      test('what a person types: lower case, no period, typographic apostrophe', () => {
        for (const greeting of ["hi, i'm Anne-Marie", 'Hi. I’m Dr. Kim.', "Hi. I' m Bob."]) {
          const run = serve(Buffer.from(`${greeting}\n`), mode);
          assert.equal(run.replies.length, 1, greeting);
          assert.match(run.replies[0] as string, /^Hi, (Anne-Marie|Dr\. Kim|Bob)\. I'm Jane$/);
        }
      });

      test('a malformed first line gets one error line explaining the form, then close', () => {
        const run = serve(Buffer.from('hello there\nNice to meet you, Jane.\n'), mode);
        assert.equal(run.replies.length, 1);
        assert.equal(parseGreetError(run.replies[0] as string)?.code, 'malformed-greeting');
        assert.match(run.replies[0] as string, /expected "Hi\. I'm <your name>\."/);
        assert.equal(run.closed, true);
      });

      test('bytes that are not UTF-8 are a malformed greeting', () => {
        const run = serve(
          Buffer.concat([Buffer.from("Hi. I'm "), Buffer.from([0xff, 0xfe]), Buffer.from('.\n')]),
          mode,
        );
        assert.equal(parseGreetError(run.replies[0] as string)?.code, 'malformed-greeting');
      });

      test('an invalid name: too long, or with control characters', () => {
        const long = serve(Buffer.from(`Hi. I'm ${'가'.repeat(17)}.\n`, 'utf8'), mode, { maxLineBytes: 200 });
        assert.equal(parseGreetError(long.replies[0] as string)?.code, 'invalid-name');
        assert.match(long.replies[0] as string, /17 characters, more than 16/);
        const control = serve(Buffer.from("Hi. I'm Bo\u0007b.\n"), mode);
        assert.equal(parseGreetError(control.replies[0] as string)?.code, 'invalid-name');
      });

      test('an overlong line gets line-too-long and close', () => {
        const run = serve(Buffer.from(`Hi. I'm ${'B'.repeat(100)}.\n`), mode);
        assert.deepEqual(
          run.replies.map((r) => parseGreetError(r)?.code),
          ['line-too-long'],
        );
        assert.equal(run.closed, true);
      });

      test('a wrong or malformed closing line gets an error', () => {
        const wrong = serve(Buffer.from("Hi. I'm Bob.\nNice to meet you, Joe.\n"), mode);
        assert.equal(parseGreetError(wrong.replies[1] as string)?.code, 'wrong-name');
        const malformed = serve(Buffer.from("Hi. I'm Bob.\nbye\n"), mode);
        assert.equal(parseGreetError(malformed.replies[1] as string)?.code, 'malformed-closing');
        assert.match(malformed.replies[1] as string, /expected "Nice to meet you, Jane\."/);
      });

      test('end of stream before a line: close without a word', () => {
        const run = serve(Buffer.from("Hi. I'm"), mode, { eof: true });
        assert.deepEqual(run.replies, []);
        assert.equal(run.closed, true);
        assert.equal(run.state.phase === 'done' && run.state.outcome, 'eof');
      });
    });
  }

  test('idle timeout: an error line naming the time, then close', () => {
    const state = initialGreetServerState({ name: 'Jane', idleTimeout: 1500 });
    const step = stepGreetServer(state, { type: 'idle-timeout' });
    assert.deepEqual(step.replies, ['ERROR idle-timeout: you said nothing for 1.5 seconds, goodbye']);
    assert.equal(step.close, true);
  });

  test('dialogue timeout: an error line naming the bound, then close, also mid-dialogue', () => {
    const state = initialGreetServerState({ name: 'Jane', idleTimeout: 1500 });
    const greeted = stepGreetServer(state, { type: 'line', line: Buffer.from("Hi. I'm Bob.") }).state;
    const step = stepGreetServer(greeted, { type: 'dialogue-timeout', timeout: 120_000 });
    assert.deepEqual(step.replies, [
      'ERROR dialogue-timeout: the dialogue took longer than 120 seconds, goodbye',
    ]);
    assert.equal(step.close, true);
    assert.equal(step.state.phase === 'done' && step.state.outcome, 'dialogue-timeout');
  });

  test('after done, more input changes nothing', () => {
    const run = serve(Buffer.from("Hi. I'm Bob.\nNice to meet you, Jane.\n"), 'chunk');
    const step = stepGreetServer(run.state, { type: 'line', line: Buffer.from("Hi. I'm Eve.") });
    assert.deepEqual(step.replies, []);
    assert.equal(step.state, run.state);
  });

  test('the server name is validated when the state is built', () => {
    assert.throws(() => initialGreetServerState({ name: '', idleTimeout: 1 }), { code: 'ERR_INVALID_ARG' });
  });
});

describe('greet client dialogue', { timeout: 60_000 }, () => {
  function talk(
    lines: GreetClientInput[],
    name = 'Bob',
  ): { sent: string[]; state: GreetClientState; closed: boolean } {
    let state = initialGreetClientState(name);
    const sent: string[] = [];
    let closed = false;
    for (const input of [{ type: 'start' } as const, ...lines]) {
      const step = stepGreetClient(state, input);
      state = step.state;
      sent.push(...step.replies);
      closed = step.close;
    }
    return { sent, state, closed };
  }
  const line = (text: string): GreetClientInput => ({ type: 'line', line: Buffer.from(text, 'utf8') });

  test('greets, reads the answer, says the closing line with the server name, closes', () => {
    const run = talk([line("Hi, Bob. I'm Jane")]);
    assert.deepEqual(run.sent, ["Hi. I'm Bob.", 'Nice to meet you, Jane.']);
    assert.equal(run.closed, true);
    assert.equal(run.state.phase === 'done' && run.state.serverName, 'Jane');
  });

  test('Korean names on both sides', () => {
    const run = talk([line("Hi, 밥. I'm 제인")], '밥');
    assert.deepEqual(run.sent, ["Hi. I'm 밥.", 'Nice to meet you, 제인.']);
  });

  test('an ERROR line from the server is a failure with its code', () => {
    const run = talk([line('ERROR too-many-connections: the server is busy, try again later')]);
    assert.equal(run.state.phase, 'failed');
    assert.deepEqual(run.state.phase === 'failed' && run.state.failure.kind, 'server-error');
    assert.equal(run.sent.length, 1);
  });

  test('an answer to someone else, or a closed connection, is a failure', () => {
    assert.equal(talk([line("Hi, Eve. I'm Jane")]).state.phase, 'failed');
    const closed = talk([{ type: 'eof' }]);
    assert.equal(closed.state.phase === 'failed' && closed.state.failure.kind, 'closed');
  });
});

describe('names', { timeout: 60_000 }, () => {
  test('any script, with punctuation, within the limit', () => {
    for (const name of ['Bob', '밥', '김철수', 'Anne-Marie', "O'Brien", 'Dr. Kim', 'José', '👩‍💻']) {
      assert.equal(checkName(name), undefined, name);
    }
  });
  test('empty, blank, control characters, bidi overrides, too long, padded', () => {
    for (const name of ['', '   ', 'a\tb', 'a\u202eb', 'x'.repeat(65), ' Bob', '...']) {
      assert.notEqual(checkName(name), undefined, JSON.stringify(name));
    }
  });
  test('a name ending in a period cannot be told from the sentence: refused', () => {
    assert.throws(() => validateName('Jane Jr.'), /ends with a period/);
    assert.throws(() => validateName('Wow!'), /ends with a period/);
    assert.equal(validateName('Dr. Kim'), 'Dr. Kim');
  });

  test('validateName throws a named error and normalises to NFC', () => {
    assert.throws(() => validateName(''), { code: 'ERR_INVALID_ARG', message: /invalid name ''/ });
    assert.equal(validateName('\u1100\u1161'), '\uac00');
  });
});
