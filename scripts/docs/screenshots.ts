// `npm run docs:screenshots`: the docs' pictures of the dashboard, from a real run. A throwaway home
// runs a real stack (the agent-runner container of this checkout, built when missing, and a native
// service: test/fixtures/native-server.mjs named `stigmer-server`), the test suite's fake
// OpenAI-compatible model answers two executions, and the built CLI's dashboard runs in tmux. Each view
// is captured with its colours (`tmux capture-pane -e -p`) and drawn by ansiToSvg.ts into docs/.
// Needs what the end-to-end tests need: a container engine, tmux, `npm run build` (the npm script runs it).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliCommand, fixtureServiceYaml, freePort, repoRoot } from '../../test/helpers/cli.ts';
import { type FakeLlm, type FakeLlmStep, startFakeLlm } from '../../test/helpers/fakeLlm.ts';
import { RunnerStack } from '../../test/helpers/runnerStack.ts';
import { TmuxTerminal } from '../../test/helpers/TmuxTerminal.ts';
import { ansiToSvg } from './ansiToSvg.ts';

const size = { columns: 110, rows: 30 };

/** Two executions' stories, by prompt: one lists, writes and answers; one runs a long command. */
function respond(body: { messages?: Array<{ role: string; content?: string }> }): FakeLlmStep | undefined {
	const messages = body.messages ?? [];
	const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
	const turn = messages.filter((m) => m.role === 'assistant').length;
	if (prompt.startsWith('Summarise')) {
		if (turn === 0) return { content: 'Let me look at the files.', toolCalls: [{ name: 'list_files', arguments: {} }] };
		if (turn === 1) return { toolCalls: [{ name: 'read_file', arguments: { path: 'notes.md' } }] };
		if (turn === 2) return { toolCalls: [{ name: 'write_file', arguments: { path: 'summary.md', content: 'Two tasks: ship the dashboard, measure idle CPU.\n' } }] };
		return { content: 'summary.md holds a one-line summary.' };
	}
	if (prompt.startsWith('Build')) return turn === 0 ? { toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 120' } }] } : { content: 'built' };
	return undefined;
}

async function main(): Promise<void> {
	let llm: FakeLlm | undefined;
	let stack: RunnerStack | undefined;
	const terminal = new TmuxTerminal('docs-screenshots', size);
	try {
		llm = await startFakeLlm({ script: [], host: '127.0.0.1', respond });
		const nativePort = await freePort();
		console.log('starting a stack (the agent-runner image is built when missing)…');
		stack = await RunnerStack.start({
			llmUrl: llm.url,
			services: fixtureServiceYaml('stigmer-server', 'native-server.mjs', ['--port', String(nativePort), '--log-interval', '2000'], [`ready: { tcp: ${nativePort} }`]),
		});
		const agent = path.join(stack.home.dir, 'summariser.yaml');
		writeFileSync(agent, 'name: summariser\ninstructions: Read the files you are given and write a short summary to summary.md.\n');
		const notes = path.join(stack.home.dir, 'notes.md');
		writeFileSync(notes, '# Notes\n- ship the dashboard\n- measure idle CPU\n');
		const done = await stack.cli(['run', agent, 'Summarise notes.md into summary.md', '--file', notes]);
		assert.equal(done.code, 0, done.stderr);
		const builder = path.join(stack.home.dir, 'builder.yaml');
		writeFileSync(builder, 'name: builder\ninstructions: Build the project.\n');
		const running = await stack.cli(['run', builder, 'Build the project', '--detach']);
		assert.equal(running.code, 0, running.stderr);

		const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
		const command = [...cliCommand(), '--home', stack.home.dir, 'dashboard'].map(quote).join(' ');
		terminal.start(`cd ${quote(repoRoot)} && ${command}`);
		const tick = (s: string) => Math.max(0, ...[...s.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
		const first = tick(await terminal.waitFor('both rows running', (s) => /agent-runner\s+running\s+healthy/.test(s) && /stigmer-server\s+running/.test(s), 60_000));
		// five more ticks of the native (2 s each): the CPU sparklines have some history
		await terminal.waitFor('five more log lines', (s) => tick(s) >= first + 5, 60_000);
		write('docs/dashboard.svg', terminal, 'stigmer dashboard: the services view');

		terminal.keys('Tab');
		await terminal.waitFor('the executions view', (s) => /summariser\s+succeeded/.test(s) && /builder\s+\S\s*running/.test(s), 30_000);
		terminal.keys('j', true);
		terminal.keys('Enter');
		await terminal.waitFor("the finished execution's events", (s) => /── answer ──/.test(s), 30_000);
		write('docs/dashboard-executions.svg', terminal, "stigmer dashboard: the executions view, with one execution's events");
		terminal.keys('q', true);
	} finally {
		terminal.kill();
		await stack?.dispose();
		await llm?.close();
	}
}

function write(file: string, terminal: TmuxTerminal, title: string): void {
	const screen = terminal.tmux(['capture-pane', '-e', '-p']);
	writeFileSync(path.join(repoRoot, file), ansiToSvg(screen, { ...size, title }));
	console.log(`wrote ${file}`);
}

await main();
