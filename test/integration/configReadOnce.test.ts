// A config file is read once per command: every command that reads config.yaml, run against a real stack
// with a preload that counts the reads of config.yaml (test/helpers/countConfigReads.mjs), reads it exactly
// once, the dashboard included, however many actions it runs (its restart uses the config it opened with).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, type TestHome, cliCommand, collect, makeTestHome, repoRoot } from '../helpers/cli.js';
import { containerName } from '../../source/contract.ts';
import { type FakeLlm, finalAnswer, startFakeLlm } from '../helpers/fakeLlm.js';
import { TmuxTerminal } from '../helpers/TmuxTerminal.js';

const preload = path.join(repoRoot, 'test', 'helpers', 'countConfigReads.mjs');
let home: TestHome;
let llm: FakeLlm;
let scratch: string;

/** The CLI with the counting preload: its result and the reads of each process it ran (pid → reads). */
async function counted(args: string[]): Promise<{ result: CliResult; reads: number[] }> {
	const file = path.join(scratch, `reads-${Math.random().toString(36).slice(2)}`);
	writeFileSync(file, '');
	const [program, ...prefix] = cliCommand();
	const child = spawn(program!, ['--import', preload, ...prefix, '--home', home.dir, ...args], {
		cwd: repoRoot,
		env: { ...process.env, NO_COLOR: '1', STIGMER_COUNT_CONFIG_READS: file },
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	const result = await collect(child, 300_000);
	return { result, reads: readLines(file) };
}

const readLines = (file: string) =>
	readFileSync(file, 'utf8')
		.split('\n')
		.filter(Boolean)
		.map((line) => Number(line.split(' ')[1]));

before(async () => {
	scratch = mkdtempSync(path.join(os.tmpdir(), 'stigmer-config-reads-'));
	llm = await startFakeLlm({ script: [], host: '127.0.0.1', whenExhausted: finalAnswer('done') });
	home = await makeTestHome('stigmer-config-reads-');
	home.writeConfig(`agentRunner:\n  port: ${home.port}\n  llm:\n    baseUrl: ${llm.url}\n    model: fake-model\nservices: {}\n`);
	writeFileSync(path.join(home.dir, 'agent.yaml'), 'name: once\ninstructions: Answer.\n');
});

after(async () => {
	await home?.cleanup();
	await llm?.close();
	if (home) rmSync(home.dir, { recursive: true, force: true });
	if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('each command reads config.yaml once', { timeout: 900_000 }, async (t) => {
	const commands = [
		['server', 'start'],
		['server', 'status'],
		['server', 'logs', '-n', '5'],
		['run', path.join(home.dir, 'agent.yaml'), 'say done'],
		['executions'],
		['doctor'],
		['server', 'restart'],
	];
	for (const args of commands) {
		await t.test(args.join(' '), async () => {
			const { result, reads } = await counted(args);
			assert.equal(result.code, 0, `stigmer ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
			assert.deepEqual(reads, [1], `reads of config.yaml by each process of stigmer ${args.join(' ')}`);
		});
	}

	await t.test('dashboard, with a restart from the keyboard', async () => {
		const file = path.join(scratch, 'reads-dashboard');
		writeFileSync(file, '');
		const terminal = new TmuxTerminal('config-reads', { columns: 120, rows: 30 });
		try {
			const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
			const [program, ...prefix] = cliCommand();
			const command = ['env', 'NO_COLOR=1', `STIGMER_COUNT_CONFIG_READS=${file}`, program!, '--import', preload, ...prefix, '--home', home.dir, 'dashboard'].map(quote).join(' ');
			terminal.start(`cd ${quote(repoRoot)} && ${command}`);
			await terminal.waitFor('agent-runner running', (s) => /› agent-runner\s+running/.test(s), 60_000);
			// the container's start time, from the engine (a restart changes it)
			const startedAt = () => execFileSync('docker', ['inspect', '--format', '{{.State.StartedAt}}', containerName(home.dir, false)], { encoding: 'utf8' }).trim();
			const before = startedAt();
			terminal.keys('r', true);
			await terminal.waitFor('the container restarted, and shown running', (s) => /agent-runner\s+running/.test(s) && !/restarting/.test(s) && startedAt() !== before, 120_000);
			terminal.keys('q', true);
			await terminal.waitFor('the dashboard ended', (s) => /STIGMER-EXIT=0/.test(s), 20_000);
		} finally {
			terminal.kill();
		}
		assert.deepEqual(readLines(file), [1], 'reads of config.yaml by the dashboard');
	});

	await t.test('server stop', async () => {
		const { result, reads } = await counted(['server', 'stop']);
		assert.equal(result.code, 0, result.stderr);
		assert.deepEqual(reads, [1]);
	});
});
