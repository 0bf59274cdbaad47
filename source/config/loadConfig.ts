// Reads and validates $STIGMER_HOME/config.yaml. Unknown keys, wrong types and keys given twice are
// errors naming the file, the line and the key (exit 2), all of them at once; every absent key takes the
// default of docs/contract.md. A file larger than maxConfigBytes is refused before it is read: a real config
// is a few kilobytes, and parsing stays linear in the size (config/yamlDocument.ts).
import { readFileSync, statSync } from 'node:fs';
import type { Node, YAMLMap } from 'yaml';
import { agentRunnerDefaults, agentRunnerService, imageTag } from '../contract.js';
import { imageSourceHash } from '../buildContext.js';
import { UsageError, errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { packageVersion } from '../version.js';
import type { NativeServiceConfig, ReadyProbe, StigmerConfig } from './types.js';
import { parseYaml, type YamlProblem } from './yamlDocument.js';
import { Validator, defaultNativeServices, isScalar, parseMemory } from './validator.js';

/** config.yaml's size limit: 256 KiB, some fifty times a generous real config (13k keys parse in ~0.2 s). */
export const maxConfigBytes = 256 * 1024;
/** Problems listed in one error; the rest are counted. */
const maxListedProblems = 50;

const configHint = 'fix config.yaml (see docs/config.md), or remove the key to use its default';

export class ConfigError extends UsageError {
	readonly problems: YamlProblem[];

	constructor(file: string, problems: YamlProblem[]) {
		const where = (p: YamlProblem) => `${file}${p.line ? `:${p.line}` : ''}: ${p.key}: ${p.problem}`;
		const listed = problems.slice(0, maxListedProblems).map((p) => `  ${where(p)}`);
		if (problems.length > maxListedProblems) listed.push(`  … and ${problems.length - maxListedProblems} more`);
		super(problems.length === 1 ? where(problems[0]!) : `${file}: ${problems.length} problems\n${listed.join('\n')}`, configHint);
		this.name = 'ConfigError';
		this.problems = problems;
		this.file = file;
	}

	readonly file: string;

	/** One line: the first problem with its file:line, and how many more there are. */
	oneLine(): string {
		const first = this.problems[0];
		if (!first) return `${this.file}: invalid`;
		const more = this.problems.length > 1 ? ` (and ${this.problems.length - 1} more)` : '';
		return `${this.file}${first.line ? `:${first.line}` : ''}: ${first.key}: ${first.problem}${more}`;
	}
}

const defaultReady: Record<string, ReadyProbe> = { 'stigmer-server': { tcp: 50051 } };

export function defaultConfig(home: StigmerHome): StigmerConfig {
	return {
		file: null,
		agentRunner: {
			// computed on first read (buildContext.ts): only commands that need the image pay for the hash
			get image() {
				return imageTag(packageVersion, imageSourceHash());
			},
			port: agentRunnerDefaults.port,
			memory: parseMemory(agentRunnerDefaults.memory)!,
			cpus: agentRunnerDefaults.cpus,
			env: {},
			llm: { provider: agentRunnerDefaults.llm.provider, baseUrl: agentRunnerDefaults.llm.baseUrl, model: agentRunnerDefaults.llm.model, apiKeyFile: null },
			maxConcurrency: agentRunnerDefaults.maxConcurrency,
			sandbox: {
				network: agentRunnerDefaults.sandbox.network,
				agentsMayWiden: agentRunnerDefaults.sandbox.agentsMayWiden,
				diskBudget: parseMemory(agentRunnerDefaults.sandbox.diskBudget)!,
				memoryBudget: null,
			},
		},
		services: defaultNativeServices.map((name) => nativeDefaults(name, home)),
	};
}

function nativeDefaults(name: string, _home: StigmerHome): NativeServiceConfig {
	return { name, command: [name], args: [], cwd: null, env: {}, ready: defaultReady[name] ?? null, optional: true, restart: 'on-failure' };
}

export function loadConfig(home: StigmerHome): StigmerConfig {
	let text: string;
	try {
		const size = statSync(home.configFile).size;
		if (size > maxConfigBytes) {
			throw new ConfigError(home.configFile, [
				{ line: undefined, key: '(file)', problem: `${(size / 1024).toFixed(0)} KiB is too large for a config file (the limit is ${maxConfigBytes / 1024} KiB)` },
			]);
		}
		text = readFileSync(home.configFile, 'utf8');
	} catch (error) {
		if (error instanceof ConfigError) throw error;
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig(home);
		throw new ConfigError(home.configFile, [{ line: undefined, key: '(file)', problem: `cannot be read: ${errorMessage(error)}` }]);
	}
	return parseConfig(text, home.configFile, home);
}

/** Parses config text; `file` names the source in errors. Throws one ConfigError listing every problem. */
export function parseConfig(text: string, file: string, home: StigmerHome): StigmerConfig {
	if (Buffer.byteLength(text) > maxConfigBytes) {
		throw new ConfigError(file, [{ line: undefined, key: '(file)', problem: `too large for a config file (the limit is ${maxConfigBytes / 1024} KiB)` }]);
	}
	const { doc, lines, syntax, duplicates } = parseYaml(text);
	if (syntax.length > 0) throw new ConfigError(file, syntax);
	const v = new Validator(file, lines, home);
	v.problems.push(...duplicates);
	const config = defaultConfig(home);
	config.file = file;
	const root = doc.contents;
	if (root !== null && !(isScalar(root) && (root.value === null || root.value === undefined))) {
		v.attempt(() => validate(v, v.map(root, '(document)'), config, home));
	}
	if (v.problems.length > 0)
		throw new ConfigError(
			file,
			v.problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
		);
	return config;
}

function validate(v: Validator, top: YAMLMap, config: StigmerConfig, home: StigmerHome): void {
	v.onlyKeys(top, '', ['agentRunner', 'services']);

	const ar = v.get(top, 'agentRunner');
	if (ar) v.attempt(() => (config.agentRunner = v.agentRunner(v.map(ar, 'agentRunner'), config.agentRunner)));

	const services = v.get(top, 'services');
	if (!services) return;
	if (isScalar(services) && services.value === null) {
		config.services = [];
		return;
	}
	const map = v.attempt(() => v.map(services, 'services'));
	if (!map) return;
	config.services = [];
	for (const pair of map.items) {
		const service = v.attempt(() => {
			const name = v.keyName(pair.key as Node, 'services');
			if (name === agentRunnerService) throw v.error(pair.key as Node, `services.${name}`, `"${agentRunnerService}" is the container service; configure it under agentRunner`);
			if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw v.error(pair.key as Node, `services.${name}`, 'a service name uses letters, digits, ".", "_" and "-"');
			return v.native(name, pair.value as Node | null, nativeDefaults(name, home));
		});
		if (service) config.services.push(service);
	}
}
