// Figures of issue 23 for the dashboard's `e` (a shell in the agent-runner container), on a real stack
// (the container on the local engine and one native fixture), the built dashboard (dist/) in a 120×40
// tmux terminal, each time by a tmux control-mode client (bench/keyProbe.ts):
//   1. `e` → the shell's prompt on the screen, the container idle
//   2. `exit` Enter → the dashboard back on the screen
//   3. `r` → the row running again ("Restarted agent-runner"): the restart alone; then `r` and `e` at
//      once → the prompt: the goal is the restart's time + 300 ms
//   4. the reference, in a second tmux terminal of the same size: `docker exec -it` of the same shell
//      (same user, directory, TERM and command; the docker CLI's own start is in its figure) → its prompt, and `exit` → the host shell's prompt
// Usage: npm run build && npx tsx bench/shellHandover.ts [--presses N] [--restarts N]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultShellCommand } from '../source/agentRunner/shell.js';
import { containerName, containerPaths, serviceUser } from '../source/contract.js';
import { cliCommand, fixtureServiceYaml, makeTestHome, repoRoot } from '../test/helpers/cli.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { percentile } from './benchStats.js';
import { lateCaptures, timeToScreen, timesToScreens } from './keyProbe.js';
import { issue23 as goal } from './goals.js';

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
// the reference's screens: the host shell's prompt is `host> `, the container's ends in `$ ` or `# `
const lastLine = (s: string) => s.trimEnd().split('\n').at(-1) ?? '';
const containerPrompt = (s: string) => /[$#]$/.test(lastLine(s).trimEnd()) && !/^host>/.test(lastLine(s));
const hostPrompt = (s: string) => /^host>$/.test(lastLine(s).trimEnd());
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function main(): Promise<void> {
	const scratch = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-shell-'));
	const home = await makeTestHome('stigmer-bench-shell-home-');
	const terminal = new TmuxTerminal('shell-bench');
	const reference = new TmuxTerminal('shell-bench-ref');
	const nativePort = home.port + 1;
	try {
		home.writeConfig(
			['agentRunner:', `  port: ${home.port}`, 'services:', ...fixtureServiceYaml('fixture-web', 'native-server.mjs', ['--port', String(nativePort)], [`ready: { tcp: ${nativePort} }`]), ''].join(
				'\n',
			),
		);
		const started = await home.cli(['server', 'start', '--timeout', '180'], { timeoutMs: 400_000 });
		if (started.code !== 0) throw new Error(`server start failed:\n${started.stdout}\n${started.stderr}`);
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
		// the same round's end of the wait on the screen (the handover's "waiting for agent-runner…" gone) → the prompt
		const afterWait: number[] = [];
		for (let i = 0; i < restarts; i++) {
			// the status line may still say "Restarted agent-runner" from the round before, and may come back to it when a
			// shorter-lived line (the shell's exit) ends: only this restart's own progress (its status line, or the row
			// no longer running) starts the wait for its end
			let sawRestarting = false;
			const restarted = (s: string) => {
				sawRestarting ||= /Restarting agent-runner/.test(s) || !/agent-runner\s+running/.test(s);
				return sawRestarting && /Restarted agent-runner/.test(s) && /agent-runner\s+running/.test(s);
			};
			restartOnly.push(await timeToScreen(terminal, ['-l r'], restarted, 120_000));
			terminal.keys('t', true);
			terminal.keys('t', true);
			const waiting = (screen: string) => /opening a shell in agent-runner: waiting for/.test(screen);
			const [, waitEnded, prompt] = await timesToScreens(terminal, ['-l r', '-l e'], [waiting, (screen) => !waiting(screen), promptShown], 120_000);
			restartThenShell.push(prompt!);
			afterWait.push(prompt! - waitEnded!);
			await timeToScreen(terminal, ['-l exit', 'Enter'], dashboardShown, 20_000);
		}
		// the reference: the engine's own CLI, the same exec
		const user = serviceUser();
		const dockerExec = ['docker', 'exec', '-it', '-u', `${user.uid}:${user.gid}`, '-w', containerPaths.workspace, '-e', 'TERM', containerName(home.dir, false), ...defaultShellCommand];
		// typed as `eval "$REF"`: no quoting through tmux's command line
		reference.start(`env PS1='host> ' REF=${quote(dockerExec.map(quote).join(' '))} sh`);
		await reference.waitFor('the host prompt', hostPrompt, 10_000);
		const refOpen: number[] = [];
		const refBack: number[] = [];
		for (let i = 0; i < presses; i++) {
			refOpen.push(await timeToScreen(reference, ['-l \'eval "$REF"\'', 'Enter'], containerPrompt, 20_000));
			refBack.push(await timeToScreen(reference, ['-l exit', 'Enter'], hostPrompt, 20_000));
		}
		const ms = (xs: number[], p: number) => `${Math.round(percentile(xs, p))} ms`;
		const lines = [
			`| figure | p50 | p95 | goal |`,
			`| --- | --- | --- | --- |`,
			`| e → shell prompt, idle container (${presses}) | ${ms(open, 50)} | ${ms(open, 95)} | ≤ ${goal.shellPromptMs} ms |`,
			`| reference: docker exec -it of the same shell → prompt (${presses}) | ${ms(refOpen, 50)} | ${ms(refOpen, 95)} | – |`,
			`| exit → dashboard back (${presses}) | ${ms(back, 50)} | ${ms(back, 95)} | ≤ ${goal.shellExitMs} ms |`,
			`| reference: exit → the host shell's prompt (${presses}) | ${ms(refBack, 50)} | ${ms(refBack, 95)} | – |`,
			`| r → row running again, the restart alone (${restarts}) | ${ms(restartOnly, 50)} | ${ms(restartOnly, 95)} | – |`,
			`| r, e at once → shell prompt (${restarts}) | ${ms(restartThenShell, 50)} | ${ms(restartThenShell, 95)} | ≤ restart + ${goal.shellPromptMs} ms |`,
			`| r, e at once: the wait's end on the screen → shell prompt, same round (${restarts}) | ${ms(afterWait, 50)} | ${ms(afterWait, 95)} | ≤ ${goal.shellPromptMs} ms |`,
		];
		const all = (name: string, xs: number[]) => `${name}: ${xs.map((x) => Math.round(x)).join(' ')}`;
		console.log(lines.join('\n'));
		console.log(
			[
				'samples (ms, in order):',
				all('e → prompt', open),
				all('exit → dashboard', back),
				all('docker exec → prompt', refOpen),
				all('docker exit → host', refBack),
				all('r → running', restartOnly),
				all('r, e → prompt', restartThenShell),
				all('wait end → prompt', afterWait),
			].join('\n'),
		);
		if (lateCaptures > 0) console.log(`${lateCaptures} screen captures got no answer in 2 s (the tmux control client was replaced; those samples are long by that)`);
		console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
	} finally {
		terminal.kill();
		reference.kill();
		await home.cleanup();
		rmSync(home.dir, { recursive: true, force: true });
		rmSync(scratch, { recursive: true, force: true });
	}
}

await main();
