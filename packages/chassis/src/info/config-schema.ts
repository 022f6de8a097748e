import type { ConfigSchema } from '../config/index.js';

export const infoConfigSchema = {
  info: {
    enabled: {
      doc: 'Serve GET /info (name, version, release, start time, uptime, Node.js version, enabled plugins) and the service_release label of service_info. Cheap, so on by default.',
      format: Boolean,
      default: true,
    },
    releaseId: {
      doc: 'Identifier of the deployed release (a CI build number, an image tag), in /info and the service_release label of service_info. Empty: info.gitSha.',
      format: String,
      default: '',
      env: 'RELEASE_ID',
    },
    gitSha: {
      doc: 'Commit the running build was made from (GIT_SHA, as CI systems set it); the release id when info.releaseId is empty.',
      format: String,
      default: '',
      env: 'GIT_SHA',
    },
  },
} as const satisfies ConfigSchema;
