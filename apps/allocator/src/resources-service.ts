import { unaryHandlers, type AsyncHandlers, type ResourcesServer } from '@atoll/api';
import { IpamError, type ResourceRepository } from '@atoll/ipam';
import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';

// The Resources gRPC service: resources travel as their JSON text; the repository owns
// validation, defaults and storage, and returns from a write only once this replica's
// resource cache shows it (see ResourceRepositoryOptions.whenWritten).

function parseResource(json: string): unknown {
  try {
    return parseJsonLossless(json);
  } catch (err) {
    throw new IpamError('invalid-argument', `resource_json is not valid JSON: ${(err as Error).message}`);
  }
}

export function resourcesHandlers(repo: ResourceRepository): ResourcesServer {
  const handlers: AsyncHandlers<ResourcesServer> = {
    apply: async (req) => ({ resourceJson: stringifyJsonLossless(await repo.apply(parseResource(req.resourceJson))) }),
    create: async (req) => ({ resourceJson: stringifyJsonLossless(await repo.create(parseResource(req.resourceJson))) }),
    get: async (req) => ({ resourceJson: stringifyJsonLossless(await repo.get(req.kind, req.name)) }),
    list: async (req) => ({ resourceJson: (await repo.list(req.kind)).map((r) => stringifyJsonLossless(r)) }),
    delete: async (req) => ({ resourceJson: stringifyJsonLossless(await repo.delete(req.kind, req.name)) }),
  };
  return unaryHandlers<ResourcesServer>(handlers);
}
