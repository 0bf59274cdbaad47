import { exitCodes } from '../../contract.js';
import { DockerApi } from '../../engine/DockerApi.js';
import { buildImage } from '../../agentRunner/ImageBuilder.js';
import { loadConfig } from '../../config/loadConfig.js';
import type { CommandContext } from '../CommandContext.js';
import { ProgressReporter } from '../ProgressReporter.js';

export default async function build(ctx: CommandContext): Promise<number> {
	const config = loadConfig(ctx.home);
	const api = await DockerApi.connect();
	const progress = new ProgressReporter(ctx.stderr, ctx.color && ctx.stderr.isTTY === true);
	try {
		const image = await buildImage(api, {
			image: config.agentRunner.image,
			onProgress: (p) => progress.stackEvent({ service: 'agent-runner', phase: 'build', progress: p }),
		});
		progress.done(`✔ built ${config.agentRunner.image} (${image.id.slice(7, 19)}, ${(image.size / 1e6).toFixed(0)} MB)`);
	} finally {
		progress.stop();
		api.close();
	}
	return exitCodes.ok;
}
