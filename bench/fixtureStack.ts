// The stack bench/dashboard.ts and bench/dashboardMemory.ts measure on: the agent-runner container, a
// quiet native (fixture-web) and a stopped flood native; and the same native under pm2, for `pm2 monit`.
import { execFileSync } from 'node:child_process';
import { fixture, fixtureServiceYaml, freePort, type TestHome } from '../test/helpers/cli.js';

/** The options bench/dashboard.ts and bench/dashboardMemory.ts share (for node:util's parseArgs), with their defaults. */
export function fixtureBenchOptions(defaults: { idleSeconds: string }) {
	return {
		'settle-seconds': { type: 'string', default: '20' },
		'idle-seconds': { type: 'string', default: defaults.idleSeconds },
		'flood-seconds': { type: 'string', default: '30' },
		rate: { type: 'string', default: '5000' },
		'no-pm2': { type: 'boolean', default: false },
	} as const;
}

/** Writes the config, starts the stack and stops the flood again (started later, to measure it). */
export async function startFixtureStack(home: TestHome, floodRate: number): Promise<void> {
	const nativePort = home.port + 1;
	home.writeConfig(
		[
			'agentRunner:',
			`  port: ${home.port}`,
			'services:',
			...fixtureServiceYaml('fixture-web', 'native-server.mjs', ['--port', String(nativePort)], [`ready: { tcp: ${nativePort} }`]),
			...fixtureServiceYaml('flood', 'flood.mjs', ['--rate', String(floodRate)], ['restart: never']),
			'',
		].join('\n'),
	);
	const started = await home.cli(['server', 'start', '--timeout', '180'], { timeoutMs: 400_000 });
	if (started.code !== 0) throw new Error(`server start failed:\n${started.stdout}\n${started.stderr}`);
	const stopped = await home.cli(['server', 'stop', 'flood']);
	if (stopped.code !== 0) throw new Error(`server stop flood failed:\n${stopped.stderr}`);
}

/** pm2 5 from the npm registry (own PM2_HOME) running the same native on a free port: the argv that runs pm2. */
export async function startPm2Fixture(pm2Home: string): Promise<string[]> {
	const env = { ...process.env, PM2_HOME: pm2Home };
	const found = execFileSync('npx', ['--yes', '-p', 'pm2@5', '-c', 'command -v pm2'], { encoding: 'utf8', env, timeout: 180_000 }).trim();
	const pm2 = [process.execPath, found];
	// a port free when it is chosen (it was the home's port + 2, never checked): on a port in use the
	// fixture exits at once, and pm2 restarts it over and over, with monit drawing the crash loop
	const port = await freePort();
	execFileSync(pm2[0]!, [pm2[1]!, 'start', fixture('native-server.mjs'), '--name', 'fixture-web', '--interpreter', process.execPath, '--', '--port', String(port)], {
		env,
		stdio: 'ignore',
		timeout: 60_000,
	});
	return pm2;
}

/**
 * The reference checked before it is trusted: pm2's fixture must be online and never restarted, or
 * `pm2 monit` draws something else than an idle service (a crash loop: its CPU and RSS several times
 * the usual). null when it is so; else what is wrong, for the report.
 */
export function pm2ReferenceProblem(pm2: string[], pm2Home: string): string | null {
	let list: Array<{ name?: string; pm2_env?: { status?: string; restart_time?: number; unstable_restarts?: number } }>;
	try {
		list = JSON.parse(execFileSync(pm2[0]!, [pm2[1]!, 'jlist'], { encoding: 'utf8', env: { ...process.env, PM2_HOME: pm2Home }, timeout: 30_000 }));
	} catch (error) {
		return `pm2 jlist failed: ${(error as Error).message.split('\n')[0]}`;
	}
	const web = list.find((p) => p.name === 'fixture-web');
	if (!web) return 'pm2 lists no fixture-web';
	const { status, restart_time: restarts = 0, unstable_restarts: unstable = 0 } = web.pm2_env ?? {};
	if (status !== 'online' || restarts + unstable > 0) return `pm2's fixture-web is ${status ?? 'in no state'} after ${restarts + unstable} restarts`;
	return null;
}

/** Ends pm2's daemon (and so its native). */
export function killPm2(pm2: string[], pm2Home: string): void {
	try {
		execFileSync(pm2[0]!, [pm2[1]!, 'kill'], { env: { ...process.env, PM2_HOME: pm2Home }, stdio: 'ignore', timeout: 30_000 });
	} catch {
		// daemon already gone
	}
}
