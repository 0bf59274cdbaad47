// Figures of issue 23 for the dashboard's `e` (a shell in the agent-runner container), on a real stack
// (the container on the local engine and one native fixture), the built dashboard (dist/) in a 120×40
// tmux terminal, each time by a tmux control-mode client (bench/keyProbe.ts):
//   1. `e` → the shell's prompt on the screen, the container idle
//   2. `exit` Enter → the dashboard back on the screen
//   3. `r` → the row running again ("Restarted agent-runner"): the restart alone; then `r` and `e` at
//      once → the prompt: the goal is the restart's time + 300 ms
// Usage: npm run build && npx tsx bench/shellHandover.ts [--presses N] [--restarts N]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliCommand, fixtureServiceYaml, makeTestHome, repoRoot } from '../test/helpers/cli.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { percentile } from './benchStats.js';
import { timeToScreen } from './keyProbe.js';

const { values } = parseArgs({
	options: {
		presses: { type: 'string', default: '10' },
		restarts: { type: 'string', default: '3' },
	},
});
const presses = Number(values.presses);
const restarts = Number(values.restarts);

const dashboardShown = (s: string) => /SERVICE\s+STATE/.test(s) && /agent-runner\s+running/.test(s);
// the prompt on the normal screen, the dashboard gone
const promptShown = (s: string) => !/SERVICE\s+STATE/.test(s) && /[$#]\s*$/m.test(s);

async function main(): Promise<void> {
	const scratch = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-shell-'));
	const home = await makeTestHome('stigmer-bench-shell-home-');
	const terminal = new TmuxTerminal('shell-bench');
	const nativePort = home.port + 1;
	try {
		home.writeConfig(
			['agentRunner:', `  port: ${home.port}`, 'services:', ...fixtureServiceYaml('fixture-web', 'native-server.mjs', ['--port', String(nativePort)], [`ready: { tcp: ${nativePort} }`]), ''].join(
				'\n',
			),
		);
		const started = await home.cli(['server', 'start', '--timeout', '180'], { timeoutMs: 400_000 });
		if (started.code !== 0) throw new Error(`server start failed:\n${started.stdout}\n${started.stderr}`);
		const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
		terminal.start(`cd ${quote(repoRoot)} && ${['env', 'NO_COLOR=1', ...cliCommand(), '--home', home.dir, 'dashboard'].map(quote).join(' ')}`);
		await terminal.waitFor('both rows running', (s) => /agent-runner\s+running/.test(s) && /fixture-web\s+running/.test(s), 60_000);
		for (let i = 0; i < 4 && !/› agent-runner/.test(terminal.screen()); i++) {
			terminal.keys('j', true);
			await terminal.waitFor('the selection moved', (s) => /› \S+/.test(s), 5_000);
		}
		await terminal.waitFor('agent-runner selected', (s) => /› agent-runner/.test(s), 5_000);

		const open: number[] = [];
		const back: number[] = [];
		for (let i = 0; i < presses; i++) {
			open.push(await timeToScreen(terminal, ['-l e'], promptShown, 20_000));
			back.push(await timeToScreen(terminal, ['-l exit', 'Enter'], dashboardShown, 20_000));
		}
		const restartOnly: number[] = [];
		const restartThenShell: number[] = [];
		for (let i = 0; i < restarts; i++) {
			restartOnly.push(await timeToScreen(terminal, ['-l r'], (s) => /Restarted agent-runner/.test(s) && /agent-runner\s+running/.test(s), 120_000));
			terminal.keys('t', true);
			terminal.keys('t', true);
			restartThenShell.push(await timeToScreen(terminal, ['-l r', '-l e'], promptShown, 120_000));
			await timeToScreen(terminal, ['-l exit', 'Enter'], dashboardShown, 20_000);
		}
		const ms = (xs: number[], p: number) => `${Math.round(percentile(xs, p))} ms`;
		const lines = [
			`| figure | p50 | p95 | goal |`,
			`| --- | --- | --- | --- |`,
			`| e → shell prompt, idle container (${presses}) | ${ms(open, 50)} | ${ms(open, 95)} | ≤ 300 ms |`,
			`| exit → dashboard back (${presses}) | ${ms(back, 50)} | ${ms(back, 95)} | ≤ 200 ms |`,
			`| r → row running again, the restart alone (${restarts}) | ${ms(restartOnly, 50)} | ${ms(restartOnly, 95)} | – |`,
			`| r, e at once → shell prompt (${restarts}) | ${ms(restartThenShell, 50)} | ${ms(restartThenShell, 95)} | ≤ restart + 300 ms |`,
		];
		console.log(lines.join('\n'));
	} finally {
		terminal.kill();
		await home.cleanup();
		rmSync(home.dir, { recursive: true, force: true });
		rmSync(scratch, { recursive: true, force: true });
	}
}

await main();
