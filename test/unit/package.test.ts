import assert from 'node:assert/strict';
import { test } from 'node:test';

test('the package imports by its name, as the README shows', async () => {
  const library = await import('socket-steps');
  assert.equal(typeof library.createHelloServer, 'function');
  assert.equal(typeof library.fetchHello, 'function');
  assert.equal(typeof library.subscribeTrace, 'function');
  assert.equal(library.TRACE_CHANNELS.tcpServer, 'socket-steps:tcp:server');
});
