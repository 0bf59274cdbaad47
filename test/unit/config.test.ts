import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, defaultConfig, parseConfig, parseMemory } from '../../source/config/loadConfig.ts';
import { StigmerHome } from '../../source/home/StigmerHome.ts';

const home = new StigmerHome(mkdtempSync(path.join(os.tmpdir(), 'stigmer-config-')), false);
const parse = (text: string) => parseConfig(text, '/h/config.yaml', home);
const fails = (text: string, pattern: RegExp) => {
	assert.throws(() => parse(text), (error: unknown) => {
		assert.ok(error instanceof ConfigError, String(error));
		assert.equal(error.exitCode, 2);
		assert.match(error.message, pattern);
		return true;
	});
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
	assert.match(config.agentRunner.image, /^stigmer\/agent-runner:\d+\.\d+\.\d+/);
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
	fails('agentRunner:\n  port: 1\n  port: 2\n', /:3: \(syntax\)/);
	fails('agentRunner:\n\tport: 1\n', /\(syntax\)/);
});

test('services: {} means no native services', () => {
	assert.deepEqual(parse('services: {}\n').services, []);
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
