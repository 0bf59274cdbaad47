import type { SandboxNetworkPolicy } from '../contract.js';

// The validated shape of config.yaml (docs/contract.md, "config.yaml"). Defaults are applied by
// loadConfig, so every field here is present.

export type RestartPolicy = 'always' | 'on-failure' | 'never';

export type ReadyProbe = { tcp: number } | { http: string } | { log: string } | null;

export interface NativeServiceConfig {
	name: string;
	/** argv[0] and leading args; argv[0] is resolved on PATH, then $STIGMER_HOME/bin. */
	command: string[];
	args: string[];
	/** absolute, or null for the home directory */
	cwd: string | null;
	env: Record<string, string>;
	ready: ReadyProbe;
	optional: boolean;
	restart: RestartPolicy;
}

export interface LlmConfig {
	provider: 'openai' | 'anthropic';
	/** as seen from the host */
	baseUrl: string;
	model: string;
	/** absolute path, or null when the provider needs no key */
	apiKeyFile: string | null;
}

/** agentRunner.sandbox: what an execution's commands may do and use (docs/security.md). */
export interface SandboxConfig {
	network: SandboxNetworkPolicy;
	/** an agent file's `network` may be wider than `network` (off: it may only narrow it) */
	agentsMayWiden: boolean;
	/** bytes of files per execution (its workspace and its files in /tmp and /dev/shm) */
	diskBudget: number;
	/** bytes of memory of an execution's processes together; null: half of agentRunner.memory */
	memoryBudget: number | null;
}

export interface AgentRunnerConfig {
	image: string;
	port: number;
	/** bytes */
	memory: number;
	cpus: number;
	env: Record<string, string>;
	llm: LlmConfig;
	maxConcurrency: number;
	sandbox: SandboxConfig;
}

export interface StigmerConfig {
	/** absolute path of the file read, or null when none exists */
	file: string | null;
	agentRunner: AgentRunnerConfig;
	/** in start order */
	services: NativeServiceConfig[];
}
