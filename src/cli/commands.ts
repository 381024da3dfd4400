import type { Command } from 'commander';
import { addAgentCommand } from './agent.js';
import { registerConfigCommand } from './config.js';
import { addControllerCommand } from './controller.js';
import { addDashboardCommand } from './dashboard.js';
import { addDemoCommand } from './demo.js';
import { addPlanCommand } from './plan.js';
import { addReconcileCommand } from './reconcile.js';
import { addDeployCommand } from './deploy.js';
import { addIamCommand } from './iam.js';
import { addInventoryCommand } from './inventory.js';
import { addSandboxCommand } from './sandbox.js';
import { addStatusCommand } from './status.js';

/** Adds every sgsync command to the program; one file per command. */
export function registerCommands(program: Command): void {
  addSandboxCommand(program);
  addDemoCommand(program);
  registerConfigCommand(program);
  addAgentCommand(program);
  addPlanCommand(program);
  addReconcileCommand(program);
  addIamCommand(program);
  addDeployCommand(program);
  addControllerCommand(program);
  addInventoryCommand(program);
  addStatusCommand(program);
  addDashboardCommand(program);
}
