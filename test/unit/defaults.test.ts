// One owner per fact: source/contract.ts holds the agent-runner's defaults, the tuning variables' defaults,
// the stop timeout and the image's user; the Dockerfile, compose file, the runner's config.py and
// sandbox_launcher.py, and docs/config.md repeat them for their readers. Each test reads one copy and fails
// when it drifts; the last ones fail when a variable stigmer or the runner reads is missing from docs/config.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { defaultConfig, parseConfig } from '../../source/config/loadConfig.ts';
import { agentRunnerDefaults, cliEnv, containerEnv, containerPaths, containerTuningDefaults, containerTuningEnv, defaultTimeouts, imageUser, nativeMarkerEnv } from '../../source/contract.ts';
import { parseMemory } from '../../source/config/validator.ts';
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
	// set by stigmer for a local engine under policy internet only (this machine's addresses)
	sandboxHostAddresses: undefined,
	sandboxAgentsMayWiden: undefined,
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
	const known = new Set<string>([...Object.values(containerEnv), 'STIGMER_VERSION']);
	for (const name of env.keys()) assert.ok(known.has(name), `the Dockerfile sets ${name}, which contract.ts does not name`);
	assert.match(runtime, new RegExp(`^EXPOSE ${agentRunnerDefaults.port}$`, 'm'));
	assert.match(dockerfile, new RegExp(`useradd --uid ${imageUser.uid} --gid ${imageUser.gid} .* ${imageUser.name}\\b`));
});

test('docker/compose.yaml: the same environment, limits and stop grace period', () => {
	const compose = parse(read('docker/compose.yaml')) as { services: Record<string, Record<string, unknown>> };
	const service = compose.services['agent-runner']!;
	/** `${VAR:-default}` → default; anything else as it is */
	const value = (raw: unknown) => String(raw).replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1');
	const environment = service.environment as Record<string, unknown>;
	// the container never shares the host's network: the image's values
	assert.equal(service.network_mode, undefined, 'network_mode');
	const expected: Record<string, string | undefined> = {
		...imageEnv,
		serviceUid: String(imageUser.uid),
		serviceGid: String(imageUser.gid),
	};
	for (const [key, name] of Object.entries(containerEnv)) {
		assert.equal(environment[name] === undefined ? undefined : value(environment[name]), expected[key], `environment ${name}`);
	}
	const known = new Set<string>([...Object.values(containerEnv), ...Object.values(containerTuningEnv)]);
	for (const name of Object.keys(environment)) assert.ok(known.has(name), `compose sets ${name}, which contract.ts does not name`);
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
			const raw = m[2]!.replace(/\s+#.*$/, '').trim();
			// a string, None, a boolean, or a constant expression (50 * 1024 * 1024, 1 << 30)
			const parsed = raw.startsWith('"') ? JSON.parse(raw) : raw === 'None' ? undefined : raw === 'True' || raw === 'False' ? raw === 'True' : pythonValue(body, raw);
			return [m[1]!, parsed as string | number | boolean | undefined];
		}),
	);
	const expected: Record<string, string | number | boolean | undefined> = {
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
		agents_may_widen: agentRunnerDefaults.sandbox.agentsMayWiden,
		disk_budget: parseMemory(agentRunnerDefaults.sandbox.diskBudget)!,
	};
	for (const [field, value] of Object.entries(expected)) assert.equal(fields.get(field), value, `Config.${field}`);
	// the sandbox launcher runs the service as the image's user unless told otherwise
	const launcher = read('agent-runner/stigmer_agent_runner/sandbox_launcher.py');
	assert.match(launcher, new RegExp(`^DEFAULT_SERVICE_ID = ${imageUser.uid}$`, 'm'), 'DEFAULT_SERVICE_ID in sandbox_launcher.py');
	// and the names it reads are containerEnv's and containerTuningEnv's, and no others but the launcher's own
	const pythonNames = new Set([...source.matchAll(/^[A-Z_]+ = "(STIGMER_[A-Z_]+)"$/gm)].map((m) => m[1]!));
	const contractNames = new Set<string>([...Object.values(containerEnv), ...Object.values(containerTuningEnv)]);
	for (const name of contractNames) assert.ok(pythonNames.has(name), `config.py names ${name}`);
	for (const name of pythonNames) assert.ok(contractNames.has(name) || launcherOnly.has(name), `config.py names ${name}, which contract.ts does not`);
	// the memory budget without agentRunner.sandbox.memoryBudget: half of the container's limit, or of the default memory
	const budgets = read('agent-runner/stigmer_agent_runner/budgets.py');
	assert.match(budgets, new RegExp(`limit // ${1 / agentRunnerDefaults.sandbox.memoryBudgetFraction} if limit else DEFAULT_MEMORY_BUDGET`), 'budgets.py: half of the limit');
	assert.equal(pythonValue(budgets, 'DEFAULT_MEMORY_BUDGET'), agentRunnerDefaults.sandbox.memoryBudgetFraction * parseMemory(agentRunnerDefaults.memory)!, 'budgets.py DEFAULT_MEMORY_BUDGET');
});

/** Set by the sandbox launcher for the service (not settings): its socket, or why there is none. */
const launcherOnly = new Set(['STIGMER_SANDBOX_FD', 'STIGMER_SANDBOX_UNAVAILABLE']);

/** A Python constant expression of integers (`512 << 20`, `50 * 1024 * 1024`, `8.0`, a module constant). */
function pythonValue(source: string, expression: string): number {
	const name = /^[A-Z_][A-Z0-9_]*$/.exec(expression.trim())?.[0];
	if (name) {
		const defined = new RegExp(`^${name} = (.+?)(\\s+#.*)?$`, 'm').exec(source);
		assert.ok(defined, `${name} is defined`);
		return pythonValue(source, defined[1]!);
	}
	const product = (term: string) => term.split('*').reduce((p, n) => p * shift(n.trim()), 1);
	const shift = (term: string) => {
		const [a, b] = term.split('<<').map((n) => Number(n.trim()));
		assert.ok(Number.isFinite(a) && (b === undefined || Number.isFinite(b)), `a number: ${term}`);
		return b === undefined ? a! : a! * 2 ** b;
	};
	return product(expression);
}

test("the runner's default of every tuning variable is the contract's (config.py, sandbox_launcher.py)", () => {
	const config = read('agent-runner/stigmer_agent_runner/config.py');
	const launcher = read('agent-runner/stigmer_agent_runner/sandbox_launcher.py');
	const body = config.slice(config.indexOf('class Config:'), config.indexOf('\n\n\n', config.indexOf('class Config:')));
	assert.deepEqual(Object.keys(containerTuningDefaults).sort(), Object.keys(containerTuningEnv).sort(), 'a default for every tuning variable');
	for (const [key, name] of Object.entries(containerTuningEnv)) {
		const constant = new RegExp(`^([A-Z_]+) = "${name}"$`, 'm').exec(config)?.[1];
		assert.ok(constant, `config.py names ${name}`);
		// read by load() into a Config field (its default there), or by the launcher with its default inline
		const field = new RegExp(`_(?:int|float)\\(env, ${constant}, defaults\\.(\\w+)`).exec(config)?.[1];
		const inline = new RegExp(`names\\._int\\(env, names\\.${constant}, ([^,]+),`).exec(launcher)?.[1];
		assert.ok(field || inline, `${name}: read by config.py's load() or by sandbox_launcher.py`);
		const raw = field ? new RegExp(`^ {4}${field}: [^=]+= (.+?)(\\s+#.*)?$`, 'm').exec(body)?.[1] : inline;
		assert.ok(raw, `${name}: its default`);
		assert.equal(pythonValue(field ? body : launcher, raw), containerTuningDefaults[key as keyof typeof containerTuningDefaults], `${name}'s default in the runner`);
	}
});

test('loadConfig: the defaults of a home without config.yaml', () => {
	const config = defaultConfig(new StigmerHome(os.tmpdir(), false));
	assert.equal(config.agentRunner.port, agentRunnerDefaults.port);
	assert.equal(config.agentRunner.memory, 1024 ** 3);
	assert.equal(config.agentRunner.cpus, agentRunnerDefaults.cpus);
	assert.equal(config.agentRunner.maxConcurrency, agentRunnerDefaults.maxConcurrency);
	assert.deepEqual(config.agentRunner.sandbox, {
		network: agentRunnerDefaults.sandbox.network,
		agentsMayWiden: false,
		diskBudget: parseMemory(agentRunnerDefaults.sandbox.diskBudget),
		memoryBudget: null,
	});
	assert.deepEqual(config.agentRunner.llm, { provider: agentRunnerDefaults.llm.provider, baseUrl: agentRunnerDefaults.llm.baseUrl, model: agentRunnerDefaults.llm.model, apiKeyFile: null });
});

/** A cell of a markdown table row that starts with `first`. */
function row(text: string, first: string): string[] {
	const line = text.split('\n').find((l) => l.startsWith(`| ${first} |`));
	assert.ok(line, `a row for ${first}`);
	return line
		.split(/(?<!\\)\|/)
		.slice(1, -1)
		.map((c) => c.trim());
}

/** How docs/config.md writes a default: bytes in MiB or GiB when whole, other numbers as they are. */
function shown(key: string, value: number): string {
	if (!/Bytes$/.test(key)) return String(value);
	return value % 1024 ** 3 === 0 ? `${value / 1024 ** 3} GiB` : `${value / 1024 ** 2} MiB`;
}

test("docs/config.md: the config.yaml example, every key's default and every variable's", () => {
	const text = read('docs/config.md');
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
	// the agentRunner table's default column
	const keys: Array<[string, string | number]> = [
		['port', agentRunnerDefaults.port],
		['memory', agentRunnerDefaults.memory],
		['cpus', agentRunnerDefaults.cpus],
		['maxConcurrency', agentRunnerDefaults.maxConcurrency],
		['sandbox.network', agentRunnerDefaults.sandbox.network],
		['sandbox.diskBudget', agentRunnerDefaults.sandbox.diskBudget],
		['llm.provider', agentRunnerDefaults.llm.provider],
		['llm.baseUrl', agentRunnerDefaults.llm.baseUrl],
		['llm.model', agentRunnerDefaults.llm.model],
	];
	for (const [key, value] of keys) assert.equal(row(text, `\`${key}\``)[1], `\`${value}\``, `agentRunner.${key}`);
	// the container's environment: the image's default as the Dockerfile sets it
	for (const [key, name] of Object.entries(containerEnv)) {
		const cells = text.split('\n').find((l) => l.startsWith('| `') && l.split('|')[1]!.includes(`\`${name}\``));
		assert.ok(cells, `a row for ${name}`);
		const image = imageEnv[key as keyof typeof containerEnv];
		const cell = cells.split('|')[2]!.trim();
		if (image === undefined) assert.ok(cell.startsWith('unset'), `${name}: unset in the image, not ${cell}`);
		else assert.equal(cell, `\`${image}\``, `${name}'s image default`);
	}
	// every tuning variable with its default
	for (const [key, name] of Object.entries(containerTuningEnv)) {
		assert.equal(row(text, `\`${name}\``)[1], shown(key, containerTuningDefaults[key as keyof typeof containerTuningDefaults]), `${name}'s default`);
	}
	// the timeouts
	assert.match(row(text, '`server start` / `server restart` wait for readiness')[1]!, new RegExp(`^${defaultTimeouts.startSeconds} s\\b`));
	assert.match(row(text, '`server stop`: SIGTERM / `docker stop`, then kill')[1]!, new RegExp(`^${defaultTimeouts.stopSeconds} s$`));
});

test('docs/config.md names every STIGMER_ variable that stigmer or the runner reads or sets', () => {
	const text = read('docs/config.md');
	const sources = execFileSync('git', ['ls-files', 'source', 'agent-runner/stigmer_agent_runner/config.py'], { cwd: repoRoot, encoding: 'utf8' })
		.split('\n')
		.filter((f) => /\.(ts|tsx|py)$/.test(f) && !/\.test\.tsx?$/.test(f));
	// an error code of the runner's API client, not a variable (api/runnerErrors.ts)
	const notVariables = new Set(['STIGMER_TIMEOUT']);
	const names = new Set<string>([...Object.values(cliEnv), ...Object.values(nativeMarkerEnv)]);
	for (const file of sources) for (const m of read(file).matchAll(/\bSTIGMER_[A-Z0-9_]*[A-Z0-9]\b/g)) if (!notVariables.has(m[0])) names.add(m[0]);
	assert.ok(names.size > 40, `found the variables (${names.size})`);
	const missing = [...names].filter((name) => !text.includes(`\`${name}`) && !text.includes(` ${name}`));
	assert.deepEqual(missing, [], 'variables docs/config.md does not name');
});

test("README.md's config.yaml example is valid and repeats no default", () => {
	const text = read('README.md');
	const block = text.match(/```yaml\n(agentRunner:\n[\s\S]*?)```/)?.[1];
	assert.ok(block, 'a ```yaml block starting with agentRunner:');
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-readme-config-'));
	try {
		writeFileSync(path.join(dir, 'config.yaml'), block);
		const config = parseConfig(block, path.join(dir, 'config.yaml'), new StigmerHome(dir, false));
		assert.notEqual(config.agentRunner.llm.model, agentRunnerDefaults.llm.model, 'the example changes the model');
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	// the defaults' one home is docs/config.md: the README names none of the tuning variables
	for (const name of Object.values(containerTuningEnv)) assert.ok(!text.includes(name), `README.md repeats ${name}`);
});
