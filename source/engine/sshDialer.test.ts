// SshConnection over a stand-in for ssh (a script that fails as ssh does when the remote has no docker:
// its words on stderr, exit 127, before reading a byte): whatever the order in which the request's
// write fails (EPIPE) and ssh's exit arrive, the connection's error is ssh's own failure, with the fix.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SshDialError } from './sshConnection.ts';
import { SshDialer } from './sshDialer.ts';

test("a request written to an ssh whose remote command already failed: the error is ssh's, never the write's EPIPE", async () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-fake-ssh-'));
	const fakeSsh = path.join(dir, 'ssh');
	writeFileSync(fakeSsh, '#!/bin/sh\necho "sh: 1: docker: not found" >&2\nexit 127\n');
	chmodSync(fakeSsh, 0o755);
	const dialer = new SshDialer({ kind: 'ssh', host: 'box.test', user: null, port: null, source: 'DOCKER_HOST' }, { multiplex: false, ssh: fakeSsh });
	const request = `GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n${'x'.repeat(256 * 1024)}`;
	try {
		const errors = await Promise.all(
			Array.from({ length: 30 }, async (_, i) => {
				const connection = await dialer.dial();
				// half write at once, half once ssh has (probably) exited but before its 'close' is seen
				if (i % 2) await new Promise((resolve) => setImmediate(resolve));
				return new Promise<Error | null>((resolve) => {
					connection.once('error', resolve);
					connection.once('close', () => resolve(null));
					connection.write(request);
					connection.resume();
				});
			}),
		);
		for (const error of errors) {
			assert.ok(error instanceof SshDialError, `ssh's failure, not ${error?.message}`);
			assert.match(error.message, /docker: not found/);
			assert.match(error.hint, /install the docker CLI/);
		}
	} finally {
		dialer.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
