// Issue 21: a process inside the runner's container killed by the OOM killer → shown in the dashboard's
// log pane, then an OOM kill of the runner's main process → shown in the dashboard (its EXIT column reads
// `OOM`), timed from the engine's own `oom` event (Podman: its `died` event), and still shown after the restart policy started the
// container again. On the engine DOCKER_HOST names (docker in docker: inside its network namespace).
// Median of --runs (default 3). Usage: npx tsc -p . && npx tsx bench/oomDashboard.ts [--runs N]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { cliCommand, makeTestHome } from '../test/helpers/cli.js';
import { oomHogScript } from '../test/helpers/oomHog.js';
import { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';
import { median } from './benchStats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const insideLatencies: number[] = [];
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

function podmanDied(id: string, since: number): number[] {
	try {
		const out = execFileSync('podman', ['events', '--stream=false', '--since', String(since), '--filter', `container=${id}`, '--filter', 'event=died', '--format', '{{.Time}}'], { encoding: 'utf8' });
		// "2026-12-07 00:36:12.844743646 +0000 UTC": ns precision lost to ms, enough here
		return out
			.split('\n')
			.filter(Boolean)
			.map((line) => Date.parse(line.replace(/^(\S+) (\S+) ([+-]\d\d)(\d\d) \S+$/, '$1T$2$3:$4')) * 1e6);
	} catch {
		return [];
	}
}

const home = await makeTestHome('stigmer-bench-oom-');
const latencies: number[] = [];
let keptAfterRestart = 0;
try {
	home.writeConfig(`agentRunner:\n  port: ${home.port}\n  memory: 64m\nservices: {}\n`);
	for (let run = 0; run < Number(values.runs); run++) {
		const started = await home.cli(['server', 'start']);
		if (started.code !== 0) throw new Error(started.stderr);
		const id = (JSON.parse((await home.cli(['server', 'status', '--json'])).stdout) as { services: Array<{ id: string }> }).services[0]!.id;
		const terminal = new TmuxTerminal(`oom-${run}`, { columns: 160, rows: 30 });
		const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
		terminal.start(['env', 'NO_COLOR=1', ...cliCommand(), '--home', home.dir, 'dashboard'].map(quote).join(' '));
		try {
			await terminal.waitFor('the agent-runner row', (screen) => /agent-runner\s+running/.test(screen), 60_000);
			// first a process inside, the container living on: the OOM killer's first choice (oom_score_adj
			// 1000) ends; timed from the moment its exec returned (just after the kill: an upper bound of it)
			let insideKilledMs = 0;
			try {
				docker('exec', id, 'sh', '-c', oomHogScript);
			} catch {
				insideKilledMs = Date.now(); // killed: exit 137
			}
			if (insideKilledMs === 0) insideKilledMs = Date.now();
			await terminal.waitFor('the process killed inside, in the log pane', (screen) => /process OOM-killed/.test(screen), 30_000);
			insideLatencies.push(Date.now() - insideKilledMs);
			const since = Math.floor(Date.now() / 1000);
			try {
				docker('exec', id, 'sh', '-c', 'head -c 200m /dev/zero > /tmp/fill');
			} catch {
				// the exec dies with its container
			}
			await terminal.waitFor('OOM in the EXIT column', (screen) => /agent-runner.*\bOOM\b(?!-)/.test(screen), 30_000);
			const shownMs = Date.now();
			const oom = docker('events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${id}`, '--filter', 'event=oom', '--format', '{{.TimeNano}}')
				.split('\n')
				.filter(Boolean)
				.map(Number);
			// Podman sends no `oom` event (and its compat endpoint answers nothing to an absolute --until): the
			// kill's time is its `died` event's, read from its own events (the kill precedes it by milliseconds)
			if (oom.length === 0) oom.push(...podmanDied(id, since));
			if (oom.length > 0) latencies.push(shownMs - Math.min(...oom) / 1e6);
			// still there once the restart policy has started it again
			await terminal.waitFor('running again, OOM kept', (screen) => /agent-runner\s+running.*\bOOM\b(?!-)/.test(screen), 30_000);
			keptAfterRestart++;
		} finally {
			terminal.kill();
		}
		await home.cli(['server', 'stop']);
	}
} finally {
	await home.cleanup();
}
console.log(
	`OOM (the engine's oom event) → OOM in the dashboard: median ${(median(latencies) / 1000).toFixed(2)} s over ${latencies.length} runs (${latencies.map((l) => (l / 1000).toFixed(2)).join(', ')}); goal ≤ 2 s`,
);
console.log(`still shown after the restart policy's start: ${keptAfterRestart}/${values.runs}`);
console.log(
	`a process killed inside (its exec returned) → shown in the dashboard's log pane: median ${(median(insideLatencies) / 1000).toFixed(2)} s over ${insideLatencies.length} runs (${insideLatencies.map((l) => (l / 1000).toFixed(2)).join(', ')})`,
);
