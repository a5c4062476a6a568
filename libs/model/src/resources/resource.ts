import { applyIPAMConfigurationDefaults, IPAMConfiguration, validateIPAMConfiguration } from './ipamconfiguration';
import { applyIPPoolDefaults, IPPool } from './ippool';
import { validateIPPool } from './ippool-validation';
import { applyIPReservationDefaults, IPReservation, validateIPReservation } from './ipreservation';
import { isPlainObject } from './field-types';
import { nameOf } from './metadata';
import { applyNodeDefaults, Node, validateNode } from './node';
import { ProblemList } from './problem-list';
import { throwIfInvalid, ValidationError } from './validation-error';

/** Every resource kind Atoll reads from YAML/JSON and stores. */
export type Resource = IPPool | IPReservation | IPAMConfiguration | Node;
export type ResourceKind = Resource['kind'];
export const RESOURCE_KINDS: readonly ResourceKind[] = ['IPPool', 'IPReservation', 'IPAMConfiguration', 'Node'];

export function isResourceKind(kind: unknown): kind is ResourceKind {
  return typeof kind === 'string' && (RESOURCE_KINDS as readonly string[]).includes(kind);
}

const VALIDATORS: Readonly<Record<ResourceKind, (value: unknown) => ValidationError[]>> = {
  IPPool: validateIPPool,
  IPReservation: validateIPReservation,
  IPAMConfiguration: validateIPAMConfiguration,
  Node: validateNode,
};

/**
 * All problems of a resource of any known kind, chosen by its `kind` field. An unknown or
 * missing kind is itself the (only) problem. Never throws, never mutates.
 */
export function validateResource(value: unknown): ValidationError[] {
  const kind = isPlainObject(value) ? value['kind'] : undefined;
  if (!isResourceKind(kind)) {
    const problems = new ProblemList(typeof kind === 'string' && kind ? kind : 'resource', nameOf(value));
    problems.add('kind', `must be one of ${RESOURCE_KINDS.join(', ')}`, kind ?? null);
    return problems.problems;
  }
  return VALIDATORS[kind](value);
}

/** Like validateResource, but throws the first problem as a ValidationError. */
export function assertValidResource(value: unknown): asserts value is Resource {
  throwIfInvalid(validateResource(value));
}

/** The resource with its kind's defaults applied. Pure: a new object, the input untouched. */
export function applyDefaults(resource: IPPool): ReturnType<typeof applyIPPoolDefaults>;
export function applyDefaults(resource: IPAMConfiguration): ReturnType<typeof applyIPAMConfigurationDefaults>;
export function applyDefaults<R extends Resource>(resource: R): R;
export function applyDefaults(resource: Resource): Resource {
  switch (resource.kind) {
    case 'IPPool':
      return applyIPPoolDefaults(resource);
    case 'IPReservation':
      return applyIPReservationDefaults(resource);
    case 'IPAMConfiguration':
      return applyIPAMConfigurationDefaults(resource);
    case 'Node':
      return applyNodeDefaults(resource);
  }
}
