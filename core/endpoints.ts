import { labUrl, type LabConfig } from './config.js';

// Where a user reaches each bonus service of a lab (the site itself is the lab's URL). The paths
// are nginx's routes in compose/ (those services sit behind nginx, so that 443 stays the only TLS
// entry); FTP is the one bonus service with a port of its own, since its protocol cannot go
// through nginx.

/** compose/'s FTP user unless srcs/.env sets FTP_USER. */
export const DEFAULT_FTP_USER = 'ftpuser';

export interface Endpoint {
  /** The compose service that answers. */
  service: string;
  what: string;
  address: string;
}

/** Empty for a lab without --bonus. */
export function bonusEndpoints(config: Pick<LabConfig, 'domain' | 'bonus'>): Endpoint[] {
  if (!config.bonus) return [];
  const site = labUrl(config);
  return [
    { service: 'website', what: 'static site (B03)', address: `${site}/site/` },
    { service: 'adminer', what: 'Adminer, server "mariadb" (B04)', address: `${site}/adminer/` },
    { service: 'status', what: 'status of every service (B05)', address: `${site}/status/` },
    { service: 'ftp', what: `FTPS with explicit TLS, user ${DEFAULT_FTP_USER}, passive ports 21100-21110 (B02)`, address: `ftp://${config.domain}:21/` },
  ];
}
