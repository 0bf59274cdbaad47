// A process inside the agent-runner's container ended by the kernel's OOM killer shows in the dashboard,
// the container living on: the built CLI in a real terminal (tmux) over the real engine DOCKER_HOST names.
// Where the engine is on this machine the dashboard counts it from the container's cgroup counter
// (platform/cgroupOomKills.ts), read when Docker's `oom` event arrives (its re-inspection), and on an
// engine that sends none (Podman) watched: inotify on cgroup v2, read with each stats sample on v1, this
// machine's case; a remote Docker tells it by `oom` events alone.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type TestHome, cliCommand, makeTestHome, repoRoot } from '../helpers/cli.js';
import { docker } from '../helpers/docker.js';
import { oomHogScript } from '../helpers/oomHog.js';
import { remoteEngine } from '../helpers/remoteEngine.js';
import { TmuxTerminal } from '../helpers/TmuxTerminal.js';

let home: TestHome;
let terminal: TmuxTerminal | null = null;

before(async () => {
	home = await makeTestHome('stigmer-e2e-oom-');
	// 64 MB: a 200 MB pipe reader inside is over the limit at once
	home.writeConfig(`agentRunner:\n  port: ${home.port}\n  memory: 64m\nservices: {}\n`);
	const started = await home.cli(['server', 'start', '--timeout', '120'], { timeoutMs: 300_000 });
	assert.equal(started.code, 0, `server start failed:\n${started.stdout}\n${started.stderr}`);
});

after(async () => {
	terminal?.kill();
	await home?.cleanup();
	if (home) rmSync(home.dir, { recursive: true, force: true });
});

test('a process inside the container killed by the OOM killer shows in the log pane, the container running on', { timeout: 180_000 }, async () => {
	const status = JSON.parse((await home.cli(['server', 'status', '--json'])).stdout) as { services: Array<{ name: string; id?: string }> };
	const id = status.services.find((s) => s.name === 'agent-runner')?.id;
	assert.ok(id, `no agent-runner id in ${JSON.stringify(status)}`);
	terminal = new TmuxTerminal('e2e-oom', { columns: 160, rows: 30 });
	const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
	const remote = remoteEngine ? ['STIGMER_ENGINE_REMOTE=1'] : [];
	terminal.start(`cd ${quote(repoRoot)} && ${['env', ...remote, 'NO_COLOR=1', ...cliCommand(), '--home', home.dir, 'dashboard'].map(quote).join(' ')}`);
	await terminal.waitFor('the agent-runner row with its stats', (s) => /agent-runner\s+running.*\d+\.\d%/.test(s), 60_000);
	assert.doesNotMatch(terminal.screen(), /OOM-killed/);
	// the OOM killer's first choice (helpers/oomHog.ts), 2 s after the exec started and in a shell that
	// lives on, so no event of the exec comes at the time of the kill
	await docker(['exec', '-d', id, 'sh', '-c', `sleep 2; (${oomHogScript}); sleep 600`]);
	const screen = await terminal.waitFor('the kill in the log pane', (s) => /process(es)? OOM-killed/.test(s), 30_000);
	assert.match(screen, /agent-runner\s+running/, 'the container lives on');
});
