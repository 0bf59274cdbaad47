// The checks of config.yaml's keys, one method per kind of value: each records its problem with the
// file, line and key (a YamlProblem) and lets the walk go on, so one error lists every problem at once.
// loadConfig.ts walks the document with it; the agent-runner's and the natives' keys are checked here.
import path from 'node:path';
import type { LineCounter, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { containerEnv, type SandboxNetworkPolicy } from '../contract.js';
import { allowEntryProblem } from './networkPolicy.js';
import { errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { AgentRunnerConfig, NativeServiceConfig, ReadyProbe, RestartPolicy } from './types.js';
import { yaml, type YamlProblem } from './yamlDocument.js';

export const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
export const isScalar = (node: unknown): node is Scalar => yaml().isScalar(node);
const isSeq = (node: unknown): node is YAMLSeq => yaml().isSeq(node);

/** The natives of a config.yaml without `services`; optional, where a service the user names is required. */
export const defaultNativeServices = ['stigmer-server', 'workflow-runner'] as const;

/** Thrown by Validator.error: the problem is recorded already; the enclosing `attempt` goes on with the next key. */
class Invalid extends Error {}

export class Validator {
	readonly problems: YamlProblem[] = [];

	constructor(
		readonly file: string,
		readonly lines: LineCounter,
		readonly home: StigmerHome,
	) {}

	/** Records a problem; `throw` the result to skip the rest of the key. */
	error(node: Node | null | undefined, key: string, problem: string): Invalid {
		const offset = node?.range?.[0];
		this.problems.push({ line: offset === undefined ? undefined : this.lines.linePos(offset).line, key, problem });
		return new Invalid(problem);
	}

	/** Runs one key's validation; a problem in it is recorded and the caller goes on with the next key. */
	attempt<T>(validate: () => T): T | undefined {
		try {
			return validate();
		} catch (error) {
			if (error instanceof Invalid) return undefined;
			throw error;
		}
	}

	map(node: Node | null, key: string): YAMLMap {
		if (!isMap(node)) throw this.error(node, key, 'expected a mapping');
		return node;
	}

	keyName(node: Node, parent: string): string {
		if (!isScalar(node) || typeof node.value !== 'string') throw this.error(node, parent, 'keys must be strings');
		return node.value;
	}

	/** Records every key of `map` that is not a string or not one of `allowed`. */
	onlyKeys(map: YAMLMap, prefix: string, allowed: string[]): void {
		for (const pair of map.items) {
			this.attempt(() => {
				const name = this.keyName(pair.key as Node, prefix || '(document)');
				if (!allowed.includes(name)) {
					throw this.error(pair.key as Node, prefix ? `${prefix}.${name}` : name, `unknown key (known: ${allowed.join(', ')})`);
				}
			});
		}
	}

	get(map: YAMLMap, key: string): Node | null {
		const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
		if (!pair) return null;
		return (pair.value as Node | null) ?? null;
	}

	scalar(node: Node | null, key: string): unknown {
		if (!isScalar(node)) throw this.error(node, key, 'expected a single value');
		return node.value;
	}

	string(node: Node, key: string): string {
		const value = this.scalar(node, key);
		if (typeof value !== 'string' || value === '') throw this.error(node, key, 'expected a non-empty string');
		return value;
	}

	int(node: Node, key: string, min: number, max: number): number {
		const value = this.scalar(node, key);
		if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
			throw this.error(node, key, `expected a whole number from ${min} to ${max}`);
		}
		return value;
	}

	bool(node: Node, key: string): boolean {
		const value = this.scalar(node, key);
		if (typeof value !== 'boolean') throw this.error(node, key, 'expected true or false');
		return value;
	}

	/** `refuse` names a problem with a variable that is valid in itself (null: none). */
	stringMap(node: Node, key: string, refuse: (name: string) => string | null = () => null): Record<string, string> {
		if (isScalar(node) && node.value === null) return {};
		const map = this.map(node, key);
		const out: Record<string, string> = {};
		for (const pair of map.items) {
			this.attempt(() => {
				const name = this.keyName(pair.key as Node, key);
				if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw this.error(pair.key as Node, `${key}.${name}`, 'not a valid environment variable name');
				const refused = refuse(name);
				if (refused) throw this.error(pair.key as Node, `${key}.${name}`, refused);
				const value = this.scalar(pair.value as Node, `${key}.${name}`);
				if (typeof value === 'object' && value !== null) throw this.error(pair.value as Node, `${key}.${name}`, 'expected a string');
				out[name] = value === null ? '' : String(value);
			});
		}
		return out;
	}

	stringList(node: Node, key: string): string[] {
		if (isScalar(node) && typeof node.value === 'string' && node.value !== '') return [node.value];
		if (!isSeq(node)) throw this.error(node, key, 'expected a list of strings');
		const items = node.items.map((item, i) =>
			this.attempt(() => {
				const value = this.scalar(item as Node, `${key}[${i}]`);
				if (typeof value !== 'string' && typeof value !== 'number') throw this.error(item as Node, `${key}[${i}]`, 'expected a string');
				return String(value);
			}),
		);
		if (items.includes(undefined)) throw new Invalid('a bad item');
		return items as string[];
	}

	homePath(node: Node, key: string): string {
		const value = this.string(node, key);
		return path.resolve(this.home.dir, value);
	}

	agentRunner(map: YAMLMap, base: AgentRunnerConfig): AgentRunnerConfig {
		this.onlyKeys(map, 'agentRunner', ['image', 'port', 'memory', 'cpus', 'env', 'llm', 'maxConcurrency', 'sandbox']);
		const out: AgentRunnerConfig = { ...base, llm: { ...base.llm }, sandbox: { ...base.sandbox } };
		for (const pair of map.items) this.attempt(() => this.agentRunnerKey(pair.key as Node, pair.value as Node, out));
		return out;
	}

	private agentRunnerKey(keyNode: Node, node: Node, out: AgentRunnerConfig): void {
		const name = (keyNode as { value?: unknown }).value;
		const key = `agentRunner.${String(name)}`;
		switch (name) {
			case 'image':
				out.image = this.string(node, key);
				break;
			case 'port':
				out.port = this.int(node, key, 1, 65535);
				break;
			case 'memory': {
				const value = this.scalar(node, key);
				const bytes = parseMemory(value);
				if (bytes === null || bytes < 32 * 1024 ** 2) throw this.error(node, key, 'expected a size of at least 32m, like 512m or 2g');
				out.memory = bytes;
				break;
			}
			case 'cpus': {
				const value = this.scalar(node, key);
				if (typeof value !== 'number' || !(value > 0) || value > 1024) throw this.error(node, key, 'expected a positive number, like 2 or 0.5');
				out.cpus = value;
				break;
			}
			case 'env': {
				const reserved = new Set<string>(Object.values(containerEnv));
				out.env = this.stringMap(node, key, (name) => (reserved.has(name) ? `${name} is set by stigmer from the other agentRunner keys` : null));
				break;
			}
			case 'maxConcurrency':
				out.maxConcurrency = this.int(node, key, 1, 256);
				break;
			case 'sandbox': {
				const sandbox = this.map(node, key);
				// one line per key: its name and how it is read
				const keys: Record<string, (n: Node, kk: string) => void> = {
					network: (n, kk) => (out.sandbox.network = this.networkPolicy(n, kk)),
					agentsMayWiden: (n, kk) => (out.sandbox.agentsMayWiden = this.bool(n, kk)),
					diskBudget: (n, kk) => (out.sandbox.diskBudget = this.size(n, kk, 1024 ** 2, 'expected a size of at least 1m, like 512m or 1g')),
					memoryBudget: (n, kk) => (out.sandbox.memoryBudget = this.size(n, kk, 16 * 1024 ** 2, 'expected a size of at least 16m, like 256m or 1g')),
				};
				this.onlyKeys(sandbox, key, Object.keys(keys));
				for (const p of sandbox.items) {
					const k = String((p.key as { value?: unknown }).value);
					this.attempt(() => keys[k]?.(p.value as Node, `${key}.${k}`));
				}
				break;
			}
			case 'llm': {
				const llm = this.map(node, key);
				this.onlyKeys(llm, key, ['provider', 'baseUrl', 'model', 'apiKeyFile']);
				for (const p of llm.items)
					this.attempt(() => {
						const k = (p.key as { value?: unknown }).value;
						const n = p.value as Node;
						const kk = `${key}.${String(k)}`;
						if (k === 'provider') {
							const value = this.string(n, kk);
							if (value !== 'openai' && value !== 'anthropic') throw this.error(n, kk, 'expected openai or anthropic');
							out.llm.provider = value;
						} else if (k === 'baseUrl') {
							const value = this.string(n, kk);
							try {
								const url = new URL(value);
								if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
							} catch {
								throw this.error(n, kk, 'expected an http:// or https:// URL');
							}
							out.llm.baseUrl = value;
						} else if (k === 'model') {
							out.llm.model = this.string(n, kk);
						} else if (k === 'apiKeyFile') {
							out.llm.apiKeyFile = this.homePath(n, kk);
						}
					});
				break;
			}
		}
	}

	/** `none`, `internet`, or `{ allow: [entries] }` (each entry checked: source/config/networkPolicy.ts). */
	private networkPolicy(node: Node, key: string): SandboxNetworkPolicy {
		const expected = 'expected none, internet or a mapping { allow: [ "host[:port]", "CIDR[:port]", "IP[:port]" ] }';
		if (isMap(node)) {
			this.onlyKeys(node, key, ['allow']);
			const list = this.get(node, 'allow');
			if (list === null) throw this.error(node, key, expected);
			const entries = this.stringList(list, `${key}.allow`);
			if (entries.length === 0) throw this.error(list, `${key}.allow`, 'the list is empty: to allow nothing, write none');
			entries.forEach((entry, i) => {
				const problem = allowEntryProblem(entry);
				if (problem) throw this.error(isSeq(list) ? (list.items[i] as Node) : list, `${key}.allow[${i}]`, `${problem} (docs/security.md)`);
			});
			return `allow:${entries.join(',')}`;
		}
		const value = this.scalar(node, key);
		if (value === 'none' || value === 'internet') return value;
		throw this.error(node, key, expected);
	}

	/** A size (`512m`, `1g`, bytes) of at least `least` bytes. */
	private size(node: Node, key: string, least: number, expected: string): number {
		const bytes = parseMemory(this.scalar(node, key));
		if (bytes === null || bytes < least) throw this.error(node, key, expected);
		return bytes;
	}

	native(name: string, node: Node | null, base: NativeServiceConfig): NativeServiceConfig {
		const key = `services.${name}`;
		if (node === null || (isScalar(node) && node.value === null)) return base;
		const map = this.map(node, key);
		this.onlyKeys(map, key, ['command', 'args', 'cwd', 'env', 'ready', 'optional', 'restart']);
		const out: NativeServiceConfig = { ...base };
		// A configured service that is not one of the defaults is required unless it says otherwise.
		if (!(defaultNativeServices as readonly string[]).includes(name)) out.optional = false;
		for (const pair of map.items) this.attempt(() => this.nativeKey(key, pair.key as Node, pair.value as Node, out));
		return out;
	}

	private nativeKey(key: string, keyNode: Node, n: Node, out: NativeServiceConfig): void {
		const k = (keyNode as { value?: unknown }).value;
		const kk = `${key}.${String(k)}`;
		switch (k) {
			case 'command':
				out.command = this.stringList(n, kk);
				if (out.command.length === 0) throw this.error(n, kk, 'expected at least the program to run');
				break;
			case 'args':
				out.args = this.stringList(n, kk);
				break;
			case 'cwd':
				out.cwd = isScalar(n) && n.value === null ? null : this.homePath(n, kk);
				break;
			case 'env':
				out.env = this.stringMap(n, kk);
				break;
			case 'optional':
				out.optional = this.bool(n, kk);
				break;
			case 'restart': {
				const value = this.string(n, kk);
				if (!['always', 'on-failure', 'never'].includes(value)) throw this.error(n, kk, 'expected always, on-failure or never');
				out.restart = value as RestartPolicy;
				break;
			}
			case 'ready':
				out.ready = this.ready(n, kk);
				break;
		}
	}

	ready(node: Node, key: string): ReadyProbe {
		if (isScalar(node) && node.value === null) return null;
		const map = this.map(node, key);
		this.onlyKeys(map, key, ['tcp', 'http', 'log']);
		if (map.items.length !== 1) throw this.error(node, key, 'expected exactly one of tcp, http or log');
		const pair = map.items[0]!;
		const k = (pair.key as { value: string }).value;
		const n = pair.value as Node;
		if (k === 'tcp') return { tcp: this.int(n, `${key}.tcp`, 1, 65535) };
		if (k === 'http') {
			const value = this.string(n, `${key}.http`);
			if (!/^https?:\/\//.test(value)) throw this.error(n, `${key}.http`, 'expected an http:// URL');
			return { http: value };
		}
		const value = this.string(n, `${key}.log`);
		try {
			new RegExp(value);
		} catch (error) {
			throw this.error(n, `${key}.log`, `not a valid regular expression: ${errorMessage(error)}`);
		}
		return { log: value };
	}
}

/** `1g`, `512m`, `1.5G`, `1073741824` → bytes; null when unparsable. */
export function parseMemory(value: unknown): number | null {
	if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.floor(value) : null;
	if (typeof value !== 'string') return null;
	const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(value);
	if (!match) return null;
	const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
	return Math.floor(Number(match[1]) * units[match[2]!.toLowerCase()]!);
}
