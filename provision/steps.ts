import type { ProvisionStep } from './context.js';
import { baseImageStep } from './steps/base-image.js';
import { configureAptStep } from './steps/configure-apt.js';
import { createUserStep } from './steps/create-user.js';
import { dataDirsStep } from './steps/data-dirs.js';
import { guestHostsStep } from './steps/guest-hosts.js';
import { installDockerStep } from './steps/install-docker.js';
import { makeStackStep } from './steps/make-stack.js';
import { probeSiteStep } from './steps/probe-site.js';
import { pushProjectStep } from './steps/push-project.js';
import { switchProjectStep } from './steps/switch-project.js';
import { waitForSshStep } from './steps/wait-for-ssh.js';
import { waitHealthyStep } from './steps/wait-healthy.js';
import { writeSecretsStep } from './steps/write-secrets.js';

/**
 * `labctl deploy`: the student's loop on a lab that is up. The machine-level steps (apt, Docker,
 * the user, the base image) were done by create; what follows a file change is here.
 */
export const DEPLOY_STEPS: readonly ProvisionStep[] = [
  waitForSshStep,
  switchProjectStep,
  dataDirsStep,
  pushProjectStep,
  writeSecretsStep,
  makeStackStep,
  waitHealthyStep,
  probeSiteStep,
];

/**
 * The runbook, in order. Each step checks the guest before it acts, so an interrupted run is
 * continued by running the whole list again.
 */
export const PROVISION_STEPS: readonly ProvisionStep[] = [
  waitForSshStep,
  configureAptStep,
  installDockerStep,
  createUserStep,
  guestHostsStep,
  switchProjectStep,
  dataDirsStep,
  pushProjectStep,
  writeSecretsStep,
  baseImageStep,
  makeStackStep,
  waitHealthyStep,
  probeSiteStep,
];
