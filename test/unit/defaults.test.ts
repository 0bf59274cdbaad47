// One owner per fact: source/contract.ts holds the agent-runner's defaults, the stop timeout and the
// image's user; the Dockerfile, compose file, the runner's config.py, README.md and docs/config.md
// repeat them for their readers. Each test reads one copy and fails when it drifts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { defaultConfig } from '../../source/config/loadConfig.ts';
import { parseMemory } from '../../source/config/validator.ts';
import { agentRunnerDefaults, containerEnv, containerPaths, containerTuningDefaults, containerTuningEnv, defaultTimeouts, imageUser } from '../../source/contract.ts';
import { StigmerHome } from '../../source/home/StigmerHome.ts';
import { repoRoot } from '../helpers/cli.ts';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

/** The container's environment as the image sets it: name → value. */
const imageEnv: Record<keyof typeof containerEnv, string | undefined> = {
	httpHost: agentRunnerDefaults.httpHost,
	httpPort: String(agentRunnerDefaults.port),
	workspace: containerPaths.workspace,
	data: containerPaths.data,
	apiTokenFile: containerPaths.apiToken,
	llmProvider: agentRunnerDefaults.llm.provider,
	llmBaseUrl: agentRunnerDefaults.llm.containerBaseUrl,
	llmModel: agentRunnerDefaults.llm.model,
	llmApiKeyFile: undefined,
	llmViaForward: undefined,
	maxConcurrency: String(agentRunnerDefaults.maxConcurrency),
	// the image leaves them to the sandbox launcher, whose default is the image's user
	serviceUid: undefined,
	serviceGid: undefined,
	sandboxNetwork: agentRunnerDefaults.sandbox.network,
	// the launcher's defaults: 1 GiB, half of the container's memory limit (budgets.py)
	sandboxDiskBudgetBytes: undefined,
	sandboxMemoryBudgetBytes: undefined,
};

test("docker/Dockerfile: the runtime stage's ENV and EXPOSE, and the image's user, are the contract's", () => {
	const dockerfile = read('docker/Dockerfile');
	const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));
	const env = new Map([...runtime.matchAll(/\b(STIGMER_[A-Z_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]));
	for (const [key, name] of Object.entries(containerEnv)) {
		assert.equal(env.get(name), imageEnv[key as keyof typeof containerEnv], `ENV ${name}`);
	}
	assert.match(runtime, new RegExp(`^EXPOSE ${agentRunnerDefaults.port}$`, 'm'));
	assert.match(dockerfile, new RegExp(`useradd --uid ${imageUser.uid} --gid ${imageUser.gid} .* ${imageUser.name}\\b`));
});

test('docker/compose.yaml: the same environment, limits and stop grace period', () => {
	const compose = parse(read('docker/compose.yaml')) as { services: Record<string, Record<string, unknown>> };
	const service = compose.services['agent-runner']!;
	/** `${VAR:-default}` → default; anything else as it is */
	const value = (raw: unknown) => String(raw).replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1');
	const environment = service.environment as Record<string, unknown>;
	// On the host's network the API binds the loopback and the LLM is the host's; on a bridge, the image's values.
	const hostNetwork = service.network_mode === 'host';
	const expected: Record<string, string | undefined> = {
		...imageEnv,
		httpHost: hostNetwork ? '127.0.0.1' : imageEnv.httpHost,
		llmBaseUrl: hostNetwork ? agentRunnerDefaults.llm.baseUrl : imageEnv.llmBaseUrl,
		serviceUid: String(imageUser.uid),
		serviceGid: String(imageUser.gid),
	};
	for (const [key, name] of Object.entries(containerEnv)) {
		assert.equal(environment[name] === undefined ? undefined : value(environment[name]), expected[key], `environment ${name}`);
	}
	assert.equal(value(service.mem_limit), agentRunnerDefaults.memory);
	assert.equal(Number(value(service.cpus)), agentRunnerDefaults.cpus);
	assert.equal(service.stop_grace_period, `${defaultTimeouts.stopSeconds}s`);
	assert.ok(containerTuningDefaults.shutdownGraceSeconds < defaultTimeouts.stopSeconds, "the runner's own grace ends before it is killed");
});

test("agent-runner's config.py: the Config dataclass defaults", () => {
	const source = read('agent-runner/stigmer_agent_runner/config.py');
	const body = source.slice(source.indexOf('class Config:'), source.indexOf('\n\n\n', source.indexOf('class Config:')));
	const fields = new Map(
		[...body.matchAll(/^ {4}(\w+): [^=]+= (.+)$/gm)].map((m) => {
			const raw = m[2]!.trim();
			// a string, None, or a number or product of numbers (50 * 1024 * 1024)
			const parsed = raw.startsWith('"') ? JSON.parse(raw) : raw === 'None' ? undefined : raw.split('*').reduce((product, n) => product * Number(n.trim()), 1);
			return [m[1]!, parsed as string | number | undefined];
		}),
	);
	const expected: Record<string, string | number | undefined> = {
		http_host: agentRunnerDefaults.httpHost,
		http_port: agentRunnerDefaults.port,
		workspace: containerPaths.workspace,
		data: containerPaths.data,
		api_token_file: containerPaths.apiToken,
		llm_provider: agentRunnerDefaults.llm.provider,
		llm_base_url: agentRunnerDefaults.llm.containerBaseUrl,
		llm_model: agentRunnerDefaults.llm.model,
		llm_api_key_file: undefined,
		max_concurrency: agentRunnerDefaults.maxConcurrency,
		sandbox_network: agentRunnerDefaults.sandbox.network,
		shutdown_grace_seconds: containerTuningDefaults.shutdownGraceSeconds,
		max_upload_bytes: containerTuningDefaults.maxUploadBytes,
		command_timeout_seconds: containerTuningDefaults.commandTimeoutSeconds,
		tool_output_limit: containerTuningDefaults.toolOutputLimit,
		llm_timeout_seconds: containerTuningDefaults.llmTimeoutSeconds,
	};
	for (const [field, value] of Object.entries(expected)) assert.equal(fields.get(field), value, `Config.${field}`);
	// the sandbox launcher runs the service as the image's user unless told otherwise
	const launcher = read('agent-runner/stigmer_agent_runner/sandbox_launcher.py');
	assert.match(launcher, new RegExp(`^DEFAULT_SERVICE_ID = ${imageUser.uid}$`, 'm'), 'DEFAULT_SERVICE_ID in sandbox_launcher.py');
	// and the names it reads are containerEnv's and containerTuningEnv's
	for (const name of [...Object.values(containerEnv), ...Object.values(containerTuningEnv)]) assert.match(source, new RegExp(`= "${name}"$`, 'm'), name);
});

test('loadConfig: the defaults of a home without config.yaml', () => {
	const config = defaultConfig(new StigmerHome(os.tmpdir(), false));
	assert.equal(config.agentRunner.port, agentRunnerDefaults.port);
	assert.equal(config.agentRunner.memory, 1024 ** 3);
	assert.equal(config.agentRunner.cpus, agentRunnerDefaults.cpus);
	assert.equal(config.agentRunner.maxConcurrency, agentRunnerDefaults.maxConcurrency);
	assert.deepEqual(config.agentRunner.sandbox, { network: agentRunnerDefaults.sandbox.network, diskBudget: parseMemory(agentRunnerDefaults.sandbox.diskBudget), memoryBudget: null });
	assert.deepEqual(config.agentRunner.llm, { provider: agentRunnerDefaults.llm.provider, baseUrl: agentRunnerDefaults.llm.baseUrl, model: agentRunnerDefaults.llm.model, apiKeyFile: null });
});

for (const doc of ['README.md', 'docs/config.md']) {
	test(`${doc}: the config.yaml example and the tuning defaults`, () => {
		const text = read(doc);
		const block = text.match(/```yaml\n(agentRunner:\n[\s\S]*?)```/)?.[1];
		assert.ok(block, 'a ```yaml block starting with agentRunner:');
		const example = parse(block) as { agentRunner: Record<string, unknown> & { llm: Record<string, unknown> } };
		assert.equal(example.agentRunner.port, agentRunnerDefaults.port);
		assert.equal(example.agentRunner.memory, agentRunnerDefaults.memory);
		assert.equal(example.agentRunner.cpus, agentRunnerDefaults.cpus);
		assert.equal(example.agentRunner.maxConcurrency, agentRunnerDefaults.maxConcurrency);
		// the sandbox's keys as written: the network policy and disk budget as defaulted, the memory budget half of the memory
		const sandbox = example.agentRunner.sandbox as Record<string, string>;
		assert.equal(sandbox.network, agentRunnerDefaults.sandbox.network);
		assert.equal(sandbox.diskBudget, agentRunnerDefaults.sandbox.diskBudget);
		assert.equal(parseMemory(sandbox.memoryBudget!), agentRunnerDefaults.sandbox.memoryBudgetFraction * parseMemory(agentRunnerDefaults.memory)!);
		assert.equal(example.agentRunner.llm.provider, agentRunnerDefaults.llm.provider);
		assert.equal(example.agentRunner.llm.baseUrl, agentRunnerDefaults.llm.baseUrl);
		assert.equal(example.agentRunner.llm.model, agentRunnerDefaults.llm.model);
		const tuning: Array<[string, string]> = [
			[containerTuningEnv.shutdownGraceSeconds, String(containerTuningDefaults.shutdownGraceSeconds)],
			[containerTuningEnv.maxUploadBytes, `${containerTuningDefaults.maxUploadBytes / 1024 ** 2} MiB`],
			[containerTuningEnv.commandTimeoutSeconds, String(containerTuningDefaults.commandTimeoutSeconds)],
			[containerTuningEnv.toolOutputLimit, String(containerTuningDefaults.toolOutputLimit)],
			[containerTuningEnv.llmTimeoutSeconds, String(containerTuningDefaults.llmTimeoutSeconds)],
		];
		for (const [name, shown] of tuning) assert.match(text, new RegExp(`\`${name}\`[^\`\\n]*?\\b${shown}\\b`), `${name} shown with ${shown}`);
	});
}
