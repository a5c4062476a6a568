export { createRouteMetrics } from './route-metrics';
export type { RouteMetrics } from './route-metrics';
export { RouteView } from './route-view';
export type { RouteSubscriber, RouteViewOptions } from './route-view';
export { ipamServiceWithEncodedRoutes, watchRoutesService } from './watch-routes-service';
export type { WatchRoutesService } from './watch-routes-service';
