// A remote engine's storage for the agent-runner (docs/architecture.md, "Remote engines"): the home's
// named volumes (workspace, data) and the container's secrets volume, their labels, and the secrets
// (the API token, the LLM key) delivered into a created container before it starts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentRunnerConfig } from '../config/types.js';
import { agentRunnerService, containerPaths, imageUser, labels, type RemoteVolume, remoteVolumes, serviceLabelSelector } from '../contract.js';
import type { DockerApi } from '../engine/DockerApi.js';
import type { StigmerHome } from '../home/StigmerHome.js';

/**
 * A remote engine's mounts: the home's named volumes (`ensureRemoteVolumes` creates them, labelled) and an
 * anonymous volume for the secrets, which goes with the container. A fresh volume starts as a copy of the
 * image's directory (owner and mode included: /workspace and /data belong to the image's user,
 * /run/secrets is root:10001 0750); a volume is also the one place of a read-only root file system that an
 * archive may be extracted into before the container starts.
 */
export function remoteMounts(home: StigmerHome): Array<Record<string, unknown>> {
	return [
		{ Type: 'volume', Source: home.volumeName('workspace'), Target: containerPaths.workspace },
		{ Type: 'volume', Source: home.volumeName('data'), Target: containerPaths.data },
		// labelled, so that one a removal without -v left behind is found and removed by `server stop`
		{ Type: 'volume', Target: containerPaths.secrets, VolumeOptions: { Labels: volumeLabels(home, 'secrets') } },
	];
}

/** The labels of the home's named volumes (the container's, plus what the volume holds). */
export function volumeLabels(home: StigmerHome, volume: RemoteVolume | 'secrets'): Record<string, string> {
	return { [labels.managed]: 'true', [labels.service]: agentRunnerService, [labels.home]: home.hash, [labels.volume]: volume };
}

/** Creates the home's named volumes that are missing; returns those it created. */
export async function ensureRemoteVolumes(api: DockerApi, home: StigmerHome): Promise<string[]> {
	const created = await Promise.all(remoteVolumes.map(async (v) => ((await api.ensureVolume(home.volumeName(v), volumeLabels(home, v))) ? home.volumeName(v) : null)));
	return created.filter((name): name is string => name !== null);
}

/** The home's volumes in the engine (by label: the named ones, and the secrets volume of each container), with what each holds. */
export async function listRemoteVolumes(api: DockerApi, home: StigmerHome): Promise<Array<{ name: string; holds: string; createdAt: string | null }>> {
	const found = await api.listVolumes([...serviceLabelSelector(home.hash, agentRunnerService), labels.volume]);
	return found.map((v) => ({ name: v.Name, holds: v.Labels?.[labels.volume] ?? '', createdAt: v.CreatedAt ?? null })).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The API token (and the LLM key, when configured) into a created container's secrets volume, as files
 * owned by root and readable by the image's group (the service is in it; the sandboxes are not), before
 * it starts: never an environment variable, never a bind mount of a local file.
 */
export async function deliverSecrets(api: DockerApi, id: string, config: AgentRunnerConfig, apiToken: string): Promise<void> {
	const { pack } = await import('tar-stream');
	const archive = pack();
	const add = (name: string, text: string) => archive.entry({ name, mode: 0o440, uid: 0, gid: imageUser.gid, mtime: new Date(0) }, text);
	add(path.posix.basename(containerPaths.apiToken), `${apiToken}\n`);
	if (config.llm.apiKeyFile) add(path.posix.basename(containerPaths.llmApiKey), readFileSync(config.llm.apiKeyFile, 'utf8'));
	archive.finalize();
	const chunks: Buffer[] = [];
	for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(chunk);
	await api.putArchive(id, containerPaths.secrets, Buffer.concat(chunks));
}
