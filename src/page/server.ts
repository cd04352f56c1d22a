/**
 * The election service with the lab page at `/`: the page's routes and its collector are added
 * from here, so src/election/ never imports the page it serves.
 */
import { startElectionServer, type ElectionServer, type ElectionServerOptions } from "../election/server.ts";
import { PageCollector, type CollectorOptions } from "./collector.ts";
import { defaultPageConfig } from "./config.ts";
import { pageRoutes } from "./routes.ts";

export interface LabServerOptions extends Omit<ElectionServerOptions, "extend"> {
  /** What the page shows beyond the election (src/page/config.ts). */
  page?: Partial<Omit<CollectorOptions, "service">>;
}

export interface LabServer extends ElectionServer {
  page: PageCollector;
}

export function startLabServer(options: LabServerOptions): LabServer {
  let page: PageCollector | undefined;
  const server = startElectionServer({
    ...options,
    extend: (service) => {
      page = new PageCollector({ ...options.page, config: options.page?.config ?? defaultPageConfig(), service });
      const collector = page;
      collector.startReaper();
      return { routes: pageRoutes(collector), stop: () => collector.stop() };
    },
  });
  return { ...server, page: page! };
}
