// The e2e tier's scenarios (fault injection above all) drive hundreds of journeys through restarts.
jest.setTimeout(600_000);
