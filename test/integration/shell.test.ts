// `stigmer shell` against the real agent-runner container: the user, the working directory, the exit
// code passed through, stdin forwarded, and the error when the container is not running.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { imageUser } from '../../source/contract.js';
import { DockerApi } from '../../source/engine/DockerApi.js';
import { runShell } from '../../source/agentRunner/shell.js';
import { docker } from '../helpers/docker.js';
import { RunnerStack, collect, repoRoot, waitForOutput } from '../helpers/runnerStack.js';

let stack: RunnerStack;

before(async () => {
	// No model is needed: the LLM URL is never called.
	stack = await RunnerStack.start({ llmUrl: 'http://127.0.0.1:9/v1' });
});

after(async () => {
	await stack?.dispose();
});

test('`stigmer shell -- id -u` runs as the non-root user of the container, in /workspace', async () => {
	const result = await stack.cli(['shell', '--', 'sh', '-c', 'id -u; pwd']);
	assert.equal(result.code, 0, result.stderr);
	const [uid, cwd] = result.stdout.trim().split('\n');
	assert.notEqual(uid, '0');
	// As root on the host the container runs as the image's user, else as the invoking user.
	assert.equal(Number(uid), process.getuid?.() === 0 ? imageUser.uid : process.getuid!());
	assert.equal(cwd, '/workspace');
	const plain = await stack.cli(['shell', '--', 'id', '-u']);
	assert.equal(plain.code, 0);
	assert.match(plain.stdout, /^[1-9]\d*\n$/);
});

test('the exit code is passed through; stdout and stderr stay apart', async () => {
	const result = await stack.cli(['shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
	assert.equal(result.code, 7);
	assert.equal(result.stdout, 'out\n');
	assert.equal(result.stderr, 'err\n');
});

test('stdin is forwarded, and its end ends the command input', async () => {
	const result = await stack.cli(['shell', '--', 'sh', '-c', 'wc -l'], { input: 'a\nb\nc\n' });
	assert.equal(result.code, 0, result.stderr);
	assert.equal(result.stdout.trim(), '3');
});

test('runShell with a TTY: raw mode is set while attached and restored afterwards, resize sent', async () => {
	const api = await DockerApi.connect();
	try {
		const stdin = Object.assign(new PassThrough(), {
			isTTY: true,
			isRaw: false,
			setRawMode(mode: boolean) {
				this.isRaw = mode;
				modes.push(mode);
			},
		});
		const modes: boolean[] = [];
		const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 123, rows: 45 });
		let output = '';
		stdout.on('data', (c: Buffer) => (output += c.toString()));
		const code = await runShell({ api, home: stack.home, command: ['sh', '-c', 'sleep 0.3; stty size; test -t 0 && echo tty; exit 3'], stdin, stdout, stderr: new PassThrough() });
		assert.equal(code, 3);
		assert.deepEqual(modes, [true, false]);
		assert.equal(stdin.isRaw, false);
		assert.match(output, /tty/);
		assert.match(output, /^45 123\r?\n/);
		assert.equal(stdin.listenerCount('data'), 0, 'no listener left on stdin');
	} finally {
		api.close();
	}
});

test('container not running: a clear error, exit 1', async () => {
	await docker(['stop', '-t', '1', stack.containerName]);
	try {
		const result = await stack.cli(['shell', '--', 'true']);
		assert.equal(result.code, 1);
		assert.match(result.stderr, /agent-runner is not running — start it with `stigmer server start`/);
		assert.match(result.stderr, /is exited/);
	} finally {
		await docker(['start', stack.containerName]);
	}
	const none = await RunnerStack.start({ llmUrl: 'http://127.0.0.1:9/v1', noContainer: true });
	try {
		const result = await none.cli(['shell']);
		assert.equal(result.code, 1);
		assert.match(result.stderr, /agent-runner is not running/);
		assert.match(result.stderr, /no container stigmer-agent-runner-/);
	} finally {
		await none.dispose();
	}
});

test('interactive: `stigmer shell` in a real terminal gets bash in /workspace, keys reach it, its exit code comes back', async () => {
	const cli = [process.execPath, '--import', 'tsx', 'source/cli.ts', '--home', stack.home.dir, 'shell'].map((a) => `'${a}'`).join(' ');
	// script(1) gives the CLI a pseudo-terminal, as a user's terminal would.
	const child = spawn('script', ['-qfec', cli, '/dev/null'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
	const done = collect(child, 30_000);
	await waitForOutput(child, /[$#] $/m, 20_000);
	child.stdin!.write('echo "shell=$0 dir=$PWD term=$TERM"; exit 5\r');
	const result = await done;
	assert.equal(result.code, 5, result.stdout);
	assert.match(result.stdout, /shell=bash dir=\/workspace term=xterm/);
});
