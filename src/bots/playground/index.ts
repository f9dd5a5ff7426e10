/** The playground as an {@link AdapterSpec}: the page on `playground.host:port`. */
import type { AdapterSpec } from '../adapter.ts';
import { startPlayground } from './server.ts';

export const playgroundAdapter: AdapterSpec = {
  name: 'playground',
  enabled: (config) => config.playground.enabled,
  async start({ config, commands, notice, defaultPack, log, health, ready }) {
    const playground = await startPlayground({
      commands,
      ...(health && { health }),
      ready,
      host: config.playground.host,
      port: config.playground.port,
      publicHosts: config.playground.publicHosts,
      maxBytes: config.photo.maxBytes,
      notice,
      defaultPack,
      log,
    });
    return {
      name: 'playground',
      url: playground.url,
      // Listening from the moment it started until it stops.
      ready: () => true,
      stop: () => playground.stop(),
      close: () => playground.close(),
    };
  },
};
