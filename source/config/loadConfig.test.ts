import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, defaultConfig, loadConfig, maxConfigBytes, parseConfig } from './loadConfig.ts';
import { parseMemory } from './validator.ts';
import { imageRepository } from '../contract.ts';
import { StigmerHome } from '../home/StigmerHome.ts';

const home = new StigmerHome(mkdtempSync(path.join(os.tmpdir(), 'stigmer-config-')), false);
const parse = (text: string) => parseConfig(text, '/h/config.yaml', home);
const fails = (text: string, pattern: RegExp) => {
	assert.throws(
		() => parse(text),
		(error: unknown) => {
			assert.ok(error instanceof ConfigError, String(error));
			assert.equal(error.exitCode, 2);
			assert.match(error.message, pattern);
			return true;
		},
	);
};

test('an empty file gives the defaults of docs/contract.md', () => {
	const config = parse('');
	const defaults = defaultConfig(home);
	assert.deepEqual(config.agentRunner, defaults.agentRunner);
	assert.deepEqual(
		config.services.map((s) => [s.name, s.optional, s.restart]),
		[
			['stigmer-server', true, 'on-failure'],
			['workflow-runner', true, 'on-failure'],
		],
	);
	assert.deepEqual(config.services[0]!.ready, { tcp: 50051 });
	assert.equal(config.agentRunner.port, 7480);
	assert.equal(config.agentRunner.memory, 1024 ** 3);
	// stigmer/agent-runner, or the repository STIGMER_DEV_IMAGE_REPOSITORY names (tests of several checkouts on one engine)
	assert.ok(config.agentRunner.image.startsWith(`${imageRepository}:`), config.agentRunner.image);
	assert.match(config.agentRunner.image, /:\d+\.\d+\.\d+/);
	if (!process.env.STIGMER_DEV_IMAGE_REPOSITORY) assert.equal(imageRepository, 'stigmer/agent-runner');
});

test('every key of docs/contract.md is read', () => {
	const config = parse(`
agentRunner:
  image: my/runner:1
  port: 9000
  memory: 512m
  cpus: 1.5
  env: { FOO: bar, N: 3 }
  llm:
    provider: anthropic
    baseUrl: https://api.example.test/v1
    model: claude
    apiKeyFile: secrets/key
services:
  api:
    command: [./bin/api, --flag]
    args: [x]
    cwd: work
    env: { A: "1" }
    ready: { http: "http://127.0.0.1:8080/healthz" }
    restart: always
  worker:
    command: worker
    optional: true
    ready: { log: "ready in \\\\d+" }
`);
	assert.equal(config.agentRunner.image, 'my/runner:1');
	assert.equal(config.agentRunner.memory, 512 * 1024 ** 2);
	assert.equal(config.agentRunner.cpus, 1.5);
	assert.deepEqual(config.agentRunner.env, { FOO: 'bar', N: '3' });
	assert.equal(config.agentRunner.llm.provider, 'anthropic');
	assert.equal(config.agentRunner.llm.apiKeyFile, path.join(home.dir, 'secrets/key'));
	const [api, worker] = config.services;
	assert.deepEqual(api!.command, ['./bin/api', '--flag']);
	assert.equal(api!.cwd, path.join(home.dir, 'work'));
	assert.equal(api!.optional, false, 'a configured service is required unless it says otherwise');
	assert.equal(api!.restart, 'always');
	assert.deepEqual(worker!.command, ['worker']);
	assert.deepEqual(worker!.ready, { log: 'ready in \\d+' });
});

test('errors name the file, the line and the key', () => {
	fails('agentRunner:\n  port: 7480\n  memroy: 1g\n', /^\/h\/config\.yaml:3: agentRunner\.memroy: unknown key/);
	fails('agentRunner:\n  port: "x"\n', /:2: agentRunner\.port: expected a whole number/);
	fails('agentRunner:\n  port: 70000\n', /:2: agentRunner\.port/);
	fails('agentRunner:\n  memory: lots\n', /:2: agentRunner\.memory/);
	fails('agentRunner:\n  llm:\n    provider: gemini\n', /:3: agentRunner\.llm\.provider: expected openai or anthropic/);
	fails('agentRunner:\n  llm:\n    baseUrl: ftp://x\n', /:3: agentRunner\.llm\.baseUrl/);
	fails('services:\n  api:\n    restart: sometimes\n', /:3: services\.api\.restart/);
	fails('services:\n  api:\n    command: []\n', /:3: services\.api\.command/);
	fails('services:\n  api:\n    ready: { tcp: 1, http: "http://x" }\n', /:3: services\.api\.ready: expected exactly one/);
	fails('services:\n  api:\n    ready: { log: "(" }\n', /services\.api\.ready\.log: not a valid regular expression/);
	fails('services:\n  agent-runner: {}\n', /:2: services\.agent-runner/);
	fails('extra: 1\n', /:1: extra: unknown key/);
	fails('agentRunner: [1, 2]\n', /agentRunner: expected a mapping/);
	fails('agentRunner:\n  env: { STIGMER_HTTP_PORT: "1" }\n', /STIGMER_HTTP_PORT is set by stigmer/);
	fails('agentRunner:\n  port: 1\n  port: 2\n', /:3: agentRunner\.port: given twice \(first on line 2\)/);
	fails('agentRunner:\n\tport: 1\n', /\(syntax\)/);
});

test('services: {} means no native services', () => {
	assert.deepEqual(parse('services: {}\n').services, []);
});

test('agentRunner.sandbox.network: none (the default), internet, or an allow list whose every entry is checked', () => {
	const network = (text: string) => parse(`agentRunner:\n  sandbox:\n    network:${text}\n`).agentRunner.sandbox.network;
	assert.equal(parse('').agentRunner.sandbox.network, 'none');
	assert.equal(network(' none'), 'none');
	assert.equal(network(' internet'), 'internet');
	assert.equal(network('\n      allow: [pypi.org:443, 10.0.0.0/8:5432, "[2001:db8::1]:443", 169.254.169.254]'), 'allow:pypi.org:443,10.0.0.0/8:5432,[2001:db8::1]:443,169.254.169.254');
	const refusedText = (text: string) => {
		try {
			parse(text);
		} catch (error) {
			return (error as Error).message;
		}
		assert.fail(`accepted: ${text}`);
	};
	const refused = (text: string) => refusedText(`agentRunner:\n  sandbox:\n    network:${text}\n`);
	assert.match(refused(' open'), /:3: agentRunner\.sandbox\.network: expected none, internet or a mapping \{ allow: \[/);
	assert.match(refused('\n      allow: []'), /agentRunner\.sandbox\.network\.allow: the list is empty: to allow nothing, write none/);
	assert.match(refused('\n      allow: [pypi.org, "git host"]'), /:4: agentRunner\.sandbox\.network\.allow\[1\]: "git host" is empty or holds a space or a comma; write one of host\.example/);
	assert.match(refused('\n      allow: [pypi.org:99999]'), /allow\[0\]: "pypi\.org:99999": the port "99999" is not a number from 1 to 65535/);
	assert.match(refused('\n      allow: [10.0.0.0/33]'), /allow\[0\]: "10\.0\.0\.0\/33": "10\.0\.0\.0\/33" is neither an address, a CIDR nor a host name/);
	assert.equal(parse('agentRunner:\n  sandbox:\n    agentsMayWiden: true\n').agentRunner.sandbox.agentsMayWiden, true);
	assert.match(refused('\n      deny: [x]'), /agentRunner\.sandbox\.network\.deny: unknown key \(known: allow/);
	assert.match(refusedText('agentRunner:\n  sandbox:\n    netwrok: none\n'), /agentRunner\.sandbox\.netwrok: unknown key \(known: network/);
});

test('memory sizes', () => {
	assert.equal(parseMemory('1g'), 1024 ** 3);
	assert.equal(parseMemory('512M'), 512 * 1024 ** 2);
	assert.equal(parseMemory('1.5g'), Math.floor(1.5 * 1024 ** 3));
	assert.equal(parseMemory('256mb'), 256 * 1024 ** 2);
	assert.equal(parseMemory(1048576), 1048576);
	assert.equal(parseMemory('1x'), null);
	assert.equal(parseMemory(true), null);
});

/** The problems of a config that fails, as `line key` strings. */
function problems(text: string): string[] {
	try {
		parse(text);
	} catch (error) {
		assert.ok(error instanceof ConfigError, String(error));
		return error.problems.map((p) => `${p.line} ${p.key}`);
	}
	assert.fail('the config was accepted');
}

test('every problem is listed, each with file:line and key', () => {
	const text = [
		'agentRunner:', // 1
		'  port: 99999', // 2
		'  memroy: 1g', // 3
		'  cpus: many', // 4
		'  env:', // 5
		'    OK: yes', // 6
		'    1BAD: x', // 7
		'    STIGMER_HTTP_PORT: "1"', // 8
		'  llm:', // 9
		'    provider: gemini', // 10
		'    baseUrl: ftp://x', // 11
		'    colour: red', // 12
		'services:', // 13
		'  api:', // 14
		'    command: []', // 15
		'    restart: sometimes', // 16
		'    args: [ok, [nested]]', // 17
		'  agent-runner: {}', // 18
		'  web:', // 19
		'    optional: maybe', // 20
		'    optional: true', // 21
		'extra: 1', // 22
		'',
	].join('\n');
	assert.deepEqual(problems(text), [
		'2 agentRunner.port',
		'3 agentRunner.memroy',
		'4 agentRunner.cpus',
		'7 agentRunner.env.1BAD',
		'8 agentRunner.env.STIGMER_HTTP_PORT',
		'10 agentRunner.llm.provider',
		'11 agentRunner.llm.baseUrl',
		'12 agentRunner.llm.colour',
		'15 services.api.command',
		'16 services.api.restart',
		'17 services.api.args[1]',
		'18 services.agent-runner',
		'20 services.web.optional',
		'21 services.web.optional',
		'22 extra',
	]);
	assert.throws(
		() => parse(text),
		(error: ConfigError) => {
			const [head, ...rest] = error.message.split('\n');
			assert.equal(head, '/h/config.yaml: 15 problems');
			assert.equal(rest.length, 15);
			assert.match(rest[0]!, /^ {2}\/h\/config\.yaml:2: agentRunner\.port: expected a whole number/);
			assert.match(rest.at(-1)!, /^ {2}\/h\/config\.yaml:22: extra: unknown key/);
			return true;
		},
	);
});

test('syntax errors are listed with their lines, before any validation', () => {
	const found = problems('a: "unterminated\nb: [1\n');
	assert.ok(found.length >= 1 && found.every((p) => p.endsWith('(syntax)')), found.join(', '));
});

test('duplicate keys are found in every mapping, in time linear in their number', () => {
	assert.deepEqual(problems('agentRunner:\n  env:\n    A: 1\n    B: 2\n    A: 3\n  llm:\n    model: x\n    model: y\n'), ['5 agentRunner.env.A', '8 agentRunner.llm.model']);
	// 10,000 keys, the last one a duplicate: yaml's own check would compare 50 million pairs
	const lines = Array.from({ length: 10_000 }, (_, i) => `    KEY_${i}: v`);
	lines.push('    KEY_0: again');
	const text = `agentRunner:\n  env:\n${lines.join('\n')}\n`;
	assert.ok(Buffer.byteLength(text) < maxConfigBytes);
	assert.deepEqual(problems(text), ['10003 agentRunner.env.KEY_0']);
	assert.equal(Object.keys(parse(text.replace('KEY_0: again', 'KEY_LAST: v')).agentRunner.env).length, 10_001);
});

test('a config over the size limit is refused before it is parsed, with a clear error', () => {
	const big = `agentRunner:\n  env:\n${Array.from({ length: 500_000 }, (_, i) => `    K${i}: v${i}`).join('\n')}\n`;
	writeFileSync(home.configFile, big);
	assert.throws(
		() => loadConfig(home),
		(error: unknown) => {
			assert.ok(error instanceof ConfigError);
			assert.equal(error.exitCode, 2);
			assert.match(error.message, /config\.yaml: \(file\): \d+ KiB is too large for a config file \(the limit is 256 KiB\)/);
			return true;
		},
	);
	fails(big, /too large for a config file/);
	writeFileSync(home.configFile, 'agentRunner:\n  port: 9001\n');
	assert.equal(loadConfig(home).agentRunner.port, 9001);
});

test('a document nested too deeply is a syntax problem, not a crash', () => {
	fails(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /\(syntax\): the document is nested too deeply/);
});

test('agentRunner.sandbox: the budgets, with their defaults and limits', () => {
	assert.deepEqual(parse('').agentRunner.sandbox, { network: 'none', agentsMayWiden: false, diskBudget: 1024 ** 3, memoryBudget: null });
	assert.deepEqual(parse('agentRunner:\n  sandbox:\n    diskBudget: 64m\n    memoryBudget: 256m\n').agentRunner.sandbox, {
		network: 'none',
		agentsMayWiden: false,
		diskBudget: 64 * 1024 ** 2,
		memoryBudget: 256 * 1024 ** 2,
	});
	fails('agentRunner:\n  sandbox:\n    diskBudget: lots\n', /:3: agentRunner\.sandbox\.diskBudget: expected a size of at least 1m/);
	fails('agentRunner:\n  sandbox:\n    memoryBudget: 1m\n', /:3: agentRunner\.sandbox\.memoryBudget: expected a size of at least 16m/);
	fails('agentRunner:\n  sandbox:\n    cpuBudget: 1\n', /agentRunner\.sandbox\.cpuBudget/);
});
