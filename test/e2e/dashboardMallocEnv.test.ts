// The dashboard re-executes itself with glibc malloc settings in its environment (commands/dashboard.ts,
// dashboardMallocEnv), and nothing it starts may inherit them: a user's service started from the
// dashboard gets the environment the user gave, not the dashboard's memory tuning. Real processes: the
// built CLI in tmux, with no stack running, starts the native with `s` (so the supervisor is spawned by
// the dashboard itself), and the native's /proc/PID/environ is read.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { dashboardMallocEnv } from '../../source/commands/dashboard.js';
import { nativeMarkerEnv } from '../../source/contract.js';
import { type TestHome, cliCommand, fixtureServiceYaml, makeTestHome, repoRoot } from '../helpers/cli.js';
import { TmuxTerminal } from '../helpers/TmuxTerminal.js';

let home: TestHome;
let terminal: TmuxTerminal | null = null;

function environOf(pid: string | number): string[] {
	try {
		return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
	} catch {
		return []; // gone, or not ours to read
	}
}

/** The pid of this home's native `name` (the supervisor marks each native's environment with both). */
function nativePid(name: string): string | undefined {
	const marks = [`${nativeMarkerEnv.home}=${home.dir}`, `${nativeMarkerEnv.service}=${name}`];
	return readdirSync('/proc')
		.filter((entry) => /^\d+$/.test(entry))
		.find((pid) => {
			const environ = environOf(pid);
			return marks.every((mark) => environ.includes(mark));
		});
}

before(async () => {
	home = await makeTestHome('stigmer-e2e-malloc-env-');
	const nativePort = home.port + 1;
	home.writeConfig(
		['agentRunner:', `  port: ${home.port}`, 'services:', ...fixtureServiceYaml('fixture-web', 'native-server.mjs', ['--port', String(nativePort)], [`ready: { tcp: ${nativePort} }`]), ''].join('\n'),
	);
});

after(async () => {
	terminal?.kill();
	await home?.cleanup();
	if (home) rmSync(home.dir, { recursive: true, force: true });
});

test('a service the dashboard starts does not inherit the malloc settings of its re-execution', { timeout: 120_000 }, async (t) => {
	const preset = Object.keys(dashboardMallocEnv).filter((name) => process.env[name] !== undefined);
	if (typeof process.execve !== 'function' || preset.length > 0) {
		t.skip(`no re-execution to test (process.execve missing, or ${preset.join(', ')} set by the caller)`);
		return;
	}
	const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
	terminal = new TmuxTerminal('malloc-env', { columns: 120, rows: 40 });
	terminal.start(`cd ${quote(repoRoot)} && ${['env', 'NO_COLOR=1', ...cliCommand(), '--home', home.dir, 'dashboard'].map(quote).join(' ')}`);
	await terminal.waitFor('the native row, not running', (s) => /› fixture-web\s+(stopped|exited|not started)/.test(s), 60_000);

	// the dashboard itself runs with them (so the check below can fail)
	const own = environOf(terminal.programPid());
	for (const [name, value] of Object.entries(dashboardMallocEnv)) assert.ok(own.includes(`${name}=${value}`), `the dashboard was executed with ${name}=${value}`);

	terminal.keys('s');
	await terminal.waitFor('fixture-web running', (s) => /fixture-web\s+running/.test(s), 60_000);
	let pid: string | undefined;
	for (let i = 0; i < 100 && !pid; i++) {
		pid = nativePid('fixture-web');
		if (!pid) await sleep(100);
	}
	assert.ok(pid, 'the native fixture-web found by its environment marks');
	const environ = environOf(pid);
	for (const name of [...Object.keys(dashboardMallocEnv), 'STIGMER_DASHBOARD_MALLOC_ENV'])
		assert.ok(!environ.some((entry) => entry.startsWith(`${name}=`)), `${name} not in the environment of the service the dashboard started`);
});
