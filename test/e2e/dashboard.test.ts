// `stigmer dashboard` end to end: the built CLI in a real terminal (tmux) over a real stack — the
// agent-runner container on the shared engine and a native fixture. The dashboard reaches the engine
// through a unix-socket proxy run by this test, so "the engine goes away" is the proxy closing, and the
// shared dockerd other tests use is never touched.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { type TestHome, cliCommand, fixtureServiceYaml, makeTestHome, repoRoot } from '../helpers/cli.js';
import { dashboardMallocEnv, dashboardV8Flags } from '../../source/commands/dashboard.js';
import { TmuxTerminal } from '../helpers/TmuxTerminal.js';
import { engineDialer } from '../../source/engine/engineDialer.js';
import { resolveEndpoint } from '../../source/engine/endpoint.js';
import { remoteEngine } from '../helpers/remoteEngine.js';
import { docker } from '../helpers/docker.js';
import { StigmerHome } from '../../source/home/StigmerHome.js';

const columns = 120;
const rows = 40;

/**
 * A unix socket that forwards every connection to the real engine, and can be closed and reopened. The
 * engine is the one DOCKER_HOST names (the engine matrix and the remote runs use this file on each),
 * dialed as stigmer dials it (a unix socket, or ssh and TLS for the remote test host).
 */
class EngineProxy {
	private server: net.Server | null = null;
	private readonly sockets = new Set<Duplex>();
	private readonly dialer = engineDialer(resolveEndpoint(process.env));
	constructor(readonly socketPath: string) {}

	async open(): Promise<void> {
		rmSync(this.socketPath, { force: true });
		const server = net.createServer((client) => {
			this.sockets.add(client);
			client.pause();
			client.on('error', () => client.destroy()).on('close', () => this.sockets.delete(client));
			this.dialer.dial().then(
				(upstream) => {
					if (client.destroyed) return upstream.destroy();
					this.sockets.add(upstream);
					const drop = () => {
						client.destroy();
						upstream.destroy();
						this.sockets.delete(upstream);
					};
					client.on('close', drop);
					upstream.on('error', drop).on('close', drop);
					client.pipe(upstream).pipe(client);
					client.resume();
				},
				() => client.destroy(),
			);
		});
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(this.socketPath, () => resolve());
		});
		this.server = server;
	}

	/** The engine "stops": no new connection is accepted and every open one is cut. */
	async close(): Promise<void> {
		const server = this.server;
		this.server = null;
		for (const socket of this.sockets) socket.destroy();
		this.sockets.clear();
		if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
		rmSync(this.socketPath, { force: true });
	}
}

/** One tmux server (its own socket name) with one window running a command. */
class Terminal extends TmuxTerminal {
	constructor() {
		super('e2e', { columns, rows });
	}
}

let home: TestHome;
let proxy: EngineProxy;
let scratch: string;
const terminals: Terminal[] = [];

async function status(): Promise<{ services: Array<{ name: string; state: string; startedAt?: string }> }> {
	const result = await home.cli(['server', 'status', '--json'], { timeoutMs: 30_000 });
	return JSON.parse(result.stdout);
}

async function containerRow() {
	const row = (await status()).services.find((s) => s.name === 'agent-runner');
	assert.ok(row, 'agent-runner row');
	return row;
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const value = await probe();
		if (value) return value;
		await sleep(250);
	}
	throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The dashboard in a fresh terminal, through the proxy; resolves once both rows show running. */
async function openDashboard(): Promise<Terminal> {
	const terminal = new Terminal();
	terminals.push(terminal);
	const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
	// the proxy's unix socket reaches a remote engine there: stigmer is told it is remote
	const remote = remoteEngine ? ['STIGMER_ENGINE_REMOTE=1'] : [];
	const command = ['env', `DOCKER_HOST=unix://${proxy.socketPath}`, ...remote, 'NO_COLOR=1', ...cliCommand(), '--home', home.dir, 'dashboard'].map(quote).join(' ');
	terminal.start(`cd ${quote(repoRoot)} && ${command}`);
	await terminal.waitFor('both rows running', (s) => /agent-runner\s+running/.test(s) && /fixture-web\s+running/.test(s));
	return terminal;
}

/** Selects the container row (fixture-web comes first). */
async function selectContainerRow(terminal: Terminal): Promise<void> {
	await terminal.waitFor('a selected row', (s) => /› \S+/.test(s));
	for (let i = 0; i < 4 && !/› agent-runner/.test(terminal.screen()); i++) {
		terminal.keys('j', true);
		await terminal.waitFor('the selection moved', (s) => /› \S+/.test(s), 5_000);
	}
	await terminal.waitFor('agent-runner selected', (s) => /› agent-runner/.test(s), 5_000);
}

const rowState = (screen: string, name: string) => new RegExp(`${name}\\s+(\\S+)`).exec(screen)?.[1];

before(async () => {
	home = await makeTestHome('stigmer-e2e-dash-');
	scratch = mkdtempSync(path.join(os.tmpdir(), 'stigmer-e2e-proxy-'));
	proxy = new EngineProxy(path.join(scratch, 'docker.sock'));
	await proxy.open();
	const nativePort = home.port + 1;
	home.writeConfig(
		[
			'agentRunner:',
			`  port: ${home.port}`,
			'services:',
			...fixtureServiceYaml('fixture-web', 'native-server.mjs', ['--port', String(nativePort), '--log-interval', '1000'], [`ready: { tcp: ${nativePort} }`]),
			'',
		].join('\n'),
	);
	const started = await home.cli(['server', 'start', '--timeout', '120'], { timeoutMs: 300_000 });
	assert.equal(started.code, 0, `server start failed:\n${started.stdout}\n${started.stderr}`);
});

after(async () => {
	for (const terminal of terminals) terminal.kill();
	await proxy?.close();
	await home?.cleanup();
	if (scratch) rmSync(scratch, { recursive: true, force: true });
	if (home) rmSync(home.dir, { recursive: true, force: true });
});

test('the dashboard: rows live, r restarts, x and s stop and start, e opens a shell, q restores the terminal', { timeout: 300_000 }, async (t) => {
	const terminal = await openDashboard();
	assert.ok(terminal.modes().alternate, 'the dashboard runs on the alternate screen');
	assert.ok(!terminal.modes().cursorVisible, 'the cursor is hidden while the dashboard runs');
	if (typeof process.execve === 'function') {
		// it executed itself again with its V8 flags (see commands/dashboard), keeping its pid
		const argv = readFileSync(`/proc/${terminal.programPid()}/cmdline`, 'utf8').split('\0');
		for (const flag of dashboardV8Flags) assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
		// and with malloc's setting in the environment it was executed with (/proc keeps that one)
		const environ = readFileSync(`/proc/${terminal.programPid()}/environ`, 'utf8').split('\0');
		for (const [name, value] of Object.entries(dashboardMallocEnv)) assert.ok(environ.includes(`${name}=${value}`), `${name}=${value} in its environment`);
	}

	await t.test('the rows are live: the native logs scroll in', async () => {
		const tick = (s: string) => Math.max(0, ...[...s.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
		const first = tick(terminal.screen());
		await terminal.waitFor('a newer tick line', (s) => tick(s) > first, 10_000);
	});

	await selectContainerRow(terminal);

	await t.test('r restarts the container: its start time changes', async () => {
		const before = await containerRow();
		assert.equal(before.state, 'running');
		terminal.keys('r', true);
		await terminal.waitFor('the restart shown in the row', (s) => /agent-runner\s+restarting/.test(s), 10_000).catch(() => undefined);
		const after = await waitUntil('a new startedAt', async () => {
			const row = await containerRow();
			return row.state === 'running' && row.startedAt !== before.startedAt ? row : undefined;
		});
		assert.notEqual(after.startedAt, before.startedAt);
		await terminal.waitFor('agent-runner running again', (s) => rowState(s, 'agent-runner') === 'running' && !/restarting…/.test(s), 60_000);
	});

	await t.test('x stops the container, s starts it', async () => {
		terminal.keys('x', true);
		await terminal.waitFor('agent-runner stopped in the table', (s) => ['exited', 'stopped'].includes(rowState(s, 'agent-runner') ?? ''), 60_000);
		assert.match((await containerRow()).state, /^(exited|stopped)$/);
		terminal.keys('s', true);
		await terminal.waitFor('agent-runner running in the table', (s) => rowState(s, 'agent-runner') === 'running', 120_000);
		assert.equal((await containerRow()).state, 'running');
	});

	await t.test('e opens a shell in the container; exit brings the live dashboard back', async () => {
		terminal.keys('e', true);
		// the shell's prompt on the normal screen: the dashboard is suspended
		await terminal.waitFor('the shell', (s) => !/SERVICE\s+STATE/.test(s) && /[$#]\s*$/m.test(s), 20_000);
		terminal.keys('echo marker-$((6*7))', true);
		terminal.keys('Enter');
		const shell = await terminal.waitFor('the command output', (s) => /^marker-42\s*$/m.test(s), 10_000);
		assert.doesNotMatch(shell, /SERVICE\s+STATE/, 'no dashboard output over the shell');
		terminal.keys('exit', true);
		terminal.keys('Enter');
		const back = await terminal.waitFor('the dashboard again', (s) => /SERVICE\s+STATE/.test(s) && /agent-runner\s+running/.test(s), 15_000);
		assert.ok(terminal.modes().alternate, 'back on the alternate screen');
		// live: the screen keeps changing by itself (uptime, stats, a new log line)
		await terminal.waitFor('a redraw after the shell', (s) => s !== back && /SERVICE\s+STATE/.test(s), 10_000);
		const tick = (s: string) => Math.max(0, ...[...s.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
		const seen = tick(terminal.screen());
		await terminal.waitFor('a new log line after the shell', (s) => tick(s) > seen, 10_000);
	});

	await t.test('the engine goes away and comes back: a banner, then recovery by itself', async () => {
		await proxy.close();
		await terminal.waitFor('the engine banner', (s) => /container engine unreachable — retrying/.test(s), 20_000);
		// native rows stay live meanwhile
		assert.match(terminal.screen(), /fixture-web\s+running/);
		await proxy.open();
		await terminal.waitFor('recovery', (s) => !/container engine unreachable/.test(s) && /agent-runner\s+running/.test(s), 30_000);
		// the stats stream resumes too: a CPU figure in the container row
		await terminal.waitFor('container stats again', (s) => /agent-runner\s+running.*\d+\.\d%/.test(s), 15_000);
	});

	await t.test('q quits and restores the terminal', async () => {
		terminal.keys('q', true);
		await terminal.waitFor('the exit', (s) => /STIGMER-EXIT=0/.test(s), 10_000);
		const modes = terminal.modes();
		assert.ok(!modes.alternate, 'alternate screen left');
		assert.ok(modes.cursorVisible, 'cursor shown');
		assert.doesNotMatch(terminal.screen(), /SERVICE\s+STATE/, 'the dashboard is gone from the screen');
	});
	terminal.kill();
});

test('keys typed while e waits for a restarting agent-runner all go to the shell, none to the dashboard', { timeout: 300_000 }, async () => {
	const terminal = await openDashboard();
	// everything the pane prints, the shell's output included (it is gone from the screen once the dashboard is back)
	const output = path.join(scratch, 'handover-pane.log');
	terminal.record(output);
	await selectContainerRow(terminal);
	const before = await status();
	// whole seconds: Podman 4.3's events API answers nothing to an RFC 3339 --since with milliseconds
	const since = String(Math.floor(Date.now() / 1000));
	// r, then e at once, then a command at once: its letters include dashboard keys (q quits, x stops, s starts, r restarts)
	terminal.keys('r', true);
	terminal.keys('e', true);
	terminal.keys('echo typed-$((6*7)) q-x-s-r; exit', true);
	terminal.keys('Enter');
	await waitUntil('the command run by the shell', async () => /typed-42 q-x-s-r/.test(readFileSync(output, 'utf8')), 120_000);
	await terminal.waitFor('the dashboard back, both rows running', (s) => /SERVICE\s+STATE/.test(s) && rowState(s, 'agent-runner') === 'running' && rowState(s, 'fixture-web') === 'running', 30_000);
	const after = await status();
	for (const row of after.services) assert.equal(row.state, 'running', `${row.name} still running`);
	const startedAt = (s: typeof before, name: string) => s.services.find((r) => r.name === name)?.startedAt;
	assert.equal(startedAt(after, 'fixture-web'), startedAt(before, 'fixture-web'), 'fixture-web never stopped or restarted');
	assert.notEqual(startedAt(after, 'agent-runner'), startedAt(before, 'agent-runner'), 'agent-runner restarted');
	// the container started exactly once since r (the restart), not again by a stray s
	const events = await docker([
		'events',
		'--since',
		since,
		'--until',
		String(Math.ceil(Date.now() / 1000) + 1),
		'--filter',
		`container=${new StigmerHome(home.dir, false).containerName}`,
		'--filter',
		'event=start',
		'--format',
		'{{.Action}}',
	]);
	assert.equal(events.stdout.trim().split('\n').filter(Boolean).length, 1, `one start of the container since r: ${events.stdout}`);
	terminal.keys('q', true);
	await terminal.waitFor('the exit', (s) => /STIGMER-EXIT=0/.test(s), 10_000);
	terminal.kill();
});

for (const [signal, code] of [
	['SIGTERM', 143],
	['SIGHUP', 129],
] as const) {
	test(`${signal} ends the dashboard and restores the terminal`, { timeout: 120_000 }, async () => {
		const terminal = await openDashboard();
		const pid = terminal.programPid(/\bdashboard\b/);
		process.kill(pid, signal);
		await terminal.waitFor(`the exit after ${signal}`, (s) => s.includes(`STIGMER-EXIT=${code}`), 10_000);
		const modes = terminal.modes();
		assert.ok(!modes.alternate, 'alternate screen left');
		assert.ok(modes.cursorVisible, 'cursor shown');
		await waitUntil(
			'the process gone',
			async () => {
				try {
					process.kill(pid, 0);
					return false;
				} catch {
					return true;
				}
			},
			5_000,
		);
		terminal.kill();
	});
}
