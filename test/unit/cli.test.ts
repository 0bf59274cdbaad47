import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { acquireHomeLock } from '../../source/home/HomeLock.ts';
import { StigmerHome } from '../../source/home/StigmerHome.ts';
import { renderHelpPage, renderHelpPages } from '../../source/commands/parseCommand.ts';
import { splitGlobals } from '../../source/main.ts';
import { repoRoot, runCli } from '../helpers/cli.ts';

const shippedHelpPages = path.join(repoRoot, 'dist', 'help-pages.json');
const notBuilt = !existsSync(shippedHelpPages) && 'no dist/help-pages.json (built with tsc alone; `npm run build` makes it)';

test('global flags are taken out wherever they stand, and not after --', () => {
	assert.deepEqual(splitGlobals(['--home', '/h', 'server', 'logs', '-f', '--no-color']), { home: '/h', noColor: true, help: false, version: false, rest: ['server', 'logs', '-f'] });
	assert.deepEqual(splitGlobals(['shell', '--', 'ls', '--home', 'x']).rest, ['shell', '--', 'ls', '--home', 'x']);
	assert.equal(splitGlobals(['--home=/x', 'doctor']).home, '/x');
	assert.throws(() => splitGlobals(['--home']), /--home needs a directory/);
});

test('--help, --version and usage errors', async () => {
	const help = await runCli(['--help']);
	assert.equal(help.code, 0);
	assert.match(help.stdout, /server start/);
	assert.match(help.stdout, /dashboard/);
	assert.equal(help.stdout.split('Run a Stigmer local stack').length, 2, 'the package description, once');
	const version = await runCli(['--version']);
	assert.equal(version.code, 0);
	assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
	const unknown = await runCli(['frobnicate']);
	assert.equal(unknown.code, 2);
	assert.match(unknown.stderr, /unknown command "frobnicate"/);
	const badFlag = await runCli(['server', 'status', '--jsn']);
	assert.equal(badFlag.code, 2);
	assert.match(badFlag.stderr, /server status: Unknown option '--jsn'/);
	assert.doesNotMatch(badFlag.stderr, /at .*:\d+:\d+/);
	const sub = await runCli(['server', 'status', '--help']);
	assert.equal(sub.code, 0);
	assert.match(sub.stdout, /Usage: stigmer server status/);
});

test('every help page the CLI prints is the one meow lays out (top level, a command alone, a command through the parser)', async () => {
	const top = await runCli(['--help']);
	assert.equal(top.stdout, `${renderHelpPage('stigmer')}\n`);
	for (const argv of [
		['server', 'status', '--help'],
		['server', 'logs', '-h'],
		['server', 'logs', '-f', '--help'],
	]) {
		const r = await runCli(argv);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stdout, `${renderHelpPage(`${argv[0]} ${argv[1]}` as 'server status')}\n`, argv.join(' '));
	}
});

test('the help pages the build shipped are what meow renders now (rebuild after a meow upgrade or a help change)', { skip: notBuilt }, () => {
	assert.deepEqual(JSON.parse(readFileSync(shippedHelpPages, 'utf8')), renderHelpPages());
});

test('the built CLI prints --help without loading meow', { skip: notBuilt }, async () => {
	const { spawnSync } = await import('node:child_process');
	for (const args of [['--help'], ['server', 'status', '--help'], ['shell', '-h']]) {
		const r = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'test/helpers/traceImports.mjs'), path.join(repoRoot, 'dist/cli.js'), ...args], { encoding: 'utf8', cwd: repoRoot });
		assert.equal(r.status, 0, r.stderr);
		assert.match(r.stdout, /Usage/);
		assert.doesNotMatch(r.stderr, /^import: meow$/m, `stigmer ${args.join(' ')}`);
	}
	const parsed = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'test/helpers/traceImports.mjs'), path.join(repoRoot, 'dist/cli.js'), 'server', 'logs', '-f', '--help'], {
		encoding: 'utf8',
		cwd: repoRoot,
	});
	assert.match(parsed.stderr, /^import: meow$/m, 'the trace sees meow where an argv is parsed');
});

test('the home lock: exclusive, and a stale lock is taken over', async () => {
	const home = new StigmerHome(mkdtempSync(path.join(os.tmpdir(), 'stigmer-lock-')), false);
	home.ensureLayout();
	const first = await acquireHomeLock(home);
	let second = false;
	const waiting = acquireHomeLock(home, { timeoutMs: 5000 }).then((l) => {
		second = true;
		return l;
	});
	await new Promise((r) => setTimeout(r, 150));
	assert.equal(second, false, 'waits while held');
	first.release();
	(await waiting).release();
	assert.equal(second, true);
	// a lock left by a process that no longer exists
	writeFileSync(home.lockFile, '999999999 1\n');
	const taken = await acquireHomeLock(home, { timeoutMs: 2000 });
	taken.release();
});

test('non-UI commands never load Ink or React', async () => {
	const { spawnSync } = await import('node:child_process');
	const { repoRoot } = await import('../helpers/cli.ts');
	const home = mkdtempSync(path.join(os.tmpdir(), 'stigmer-imports-'));
	writeFileSync(path.join(home, 'config.yaml'), 'services: {}\n');
	for (const args of [['--help'], ['server', 'status', '--json'], ['server', 'logs', '-n', '1'], ['doctor', '--json'], ['executions', 'list']]) {
		const r = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'test/helpers/traceImports.mjs'), '--import', 'tsx', path.join(repoRoot, 'source/cli.ts'), '--home', home, ...args], {
			encoding: 'utf8',
			cwd: repoRoot,
			env: { ...process.env, DOCKER_HOST: 'unix:///tmp/stigmer-no-engine.sock' },
		});
		const imports = r.stderr
			.split('\n')
			.filter((l) => l.startsWith('import: '))
			.map((l) => l.slice(8));
		if (args[0] === 'server') assert.ok(imports.includes('yaml'), 'the import trace is active');
		assert.deepEqual(
			imports.filter((i) => /^(ink|react|ink-testing-library)(\/|$)/.test(i)),
			[],
			`stigmer ${args.join(' ')} loaded ${imports.join(', ')}`,
		);
	}
});

test('dockerode is loaded only where a command needs more than a GET (not --help, natives-only paths or server status)', async () => {
	const { spawnSync } = await import('node:child_process');
	const { repoRoot } = await import('../helpers/cli.ts');
	const home = mkdtempSync(path.join(os.tmpdir(), 'stigmer-imports-'));
	writeFileSync(path.join(home, 'config.yaml'), 'services:\n  api:\n    command: [node, never-started.mjs]\n');
	const loads = (args: string[]) => {
		const r = spawnSync(process.execPath, ['--import', path.join(repoRoot, 'test/helpers/traceImports.mjs'), '--import', 'tsx', path.join(repoRoot, 'source/cli.ts'), '--home', home, ...args], {
			encoding: 'utf8',
			cwd: repoRoot,
			env: { ...process.env, DOCKER_HOST: 'unix:///tmp/stigmer-no-engine.sock' },
		});
		return r.stderr.split('\n').includes('import: dockerode');
	};
	for (const args of [['--help'], ['server', 'logs', 'api', '-n', '1'], ['executions', 'list'], ['server', 'status', '--json']]) assert.equal(loads(args), false, `stigmer ${args.join(' ')}`);
	// the trace's positive side: the engine's own commands (engineClient.test.ts runs status on a real engine)
	const { spawnSync: spawn } = await import('node:child_process');
	const traced = spawn(
		process.execPath,
		[
			'--import',
			path.join(repoRoot, 'test/helpers/traceImports.mjs'),
			'--import',
			'tsx',
			'-e',
			"import('./source/engine/DockerApi.ts').then(async ({ DockerApi }) => { const api = new DockerApi({ kind: 'unix', socketPath: '/nowhere', source: 'test' }); api.apiVersion = '1.41'; void api.docker; })",
		],
		{ encoding: 'utf8', cwd: repoRoot },
	);
	assert.match(traced.stderr, /^import: dockerode$/m, 'the trace sees dockerode where the client is made');
});

test('a tcp:// engine that does not answer: no Node warning on stderr (the bundled docker-modem calls url.parse)', async () => {
	const { freePort } = await import('../helpers/cli.ts');
	const home = mkdtempSync(path.join(os.tmpdir(), 'stigmer-cli-tcp-'));
	const port = await freePort();
	const r = await runCli(['--home', home, 'server', 'status', '--json'], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_CONTEXT: '' } });
	assert.equal(r.code, 3, r.stderr);
	assert.doesNotMatch(r.stderr, /Warning/, r.stderr);
});
