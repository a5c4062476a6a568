import { unaryHandlers, type AsyncHandlers, type ResourcesServer } from '@atoll/api';
import { IpamError, type ResourceRepository } from '@atoll/ipam';
import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';

// The Resources gRPC service: resources travel as their JSON text; the repository owns
// validation, defaults and storage.

function parseResource(json: string): unknown {
  try {
    return parseJsonLossless(json);
  } catch (err) {
    throw new IpamError('invalid-argument', `resource_json is not valid JSON: ${(err as Error).message}`);
  }
}

export function resourcesHandlers(repo: ResourceRepository, afterWrite: () => Promise<void>): ResourcesServer {
  const handlers: AsyncHandlers<ResourcesServer> = {
    apply: async (req) => {
      const stored = await repo.apply(parseResource(req.resourceJson));
      await afterWrite();
      return { resourceJson: stringifyJsonLossless(stored) };
    },
    create: async (req) => {
      const stored = await repo.create(parseResource(req.resourceJson));
      await afterWrite();
      return { resourceJson: stringifyJsonLossless(stored) };
    },
    get: async (req) => ({ resourceJson: stringifyJsonLossless(await repo.get(req.kind, req.name)) }),
    list: async (req) => ({ resourceJson: (await repo.list(req.kind)).map((r) => stringifyJsonLossless(r)) }),
    delete: async (req) => {
      const deleted = await repo.delete(req.kind, req.name);
      await afterWrite();
      return { resourceJson: stringifyJsonLossless(deleted) };
    },
  };
  return unaryHandlers<ResourcesServer>(handlers);
}
