// The parts of `docker inspect` and `docker volume inspect` JSON the live checks read.

export interface ContainerInspect {
  Name: string;
  Config: { Image: string; Env?: string[] | null; Labels?: Record<string, string> | null };
  State: { Running: boolean; Pid: number; Health?: { Status: string } };
  HostConfig: { RestartPolicy?: { Name: string }; NetworkMode?: string; PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
  Mounts?: { Type: string; Name?: string; Source?: string; Destination: string }[];
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

export interface VolumeInspect {
  Name: string;
  Driver: string;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export function serviceName(c: ContainerInspect): string {
  return c.Config.Labels?.['com.docker.compose.service'] ?? c.Name.replace(/^\//, '');
}
