/** An item as the API returns it. */
export interface Item {
  id: string;
  name: string;
  quantity: number;
  /** ISO 8601 timestamp. */
  createdAt: string;
}

/** What a client sends to create an item. */
export interface NewItem {
  name: string;
  quantity: number;
}

/** One page of `GET /items`, oldest items first. */
export interface ItemPage {
  items: Item[];
  total: number;
  limit: number;
  offset: number;
}

/** Where items live. The routes use this interface only, so the storage can change under them. */
export interface ItemsStore {
  /** Stores a new item and returns it, with its id and creation time. */
  create(input: NewItem): Promise<Item>;
  /** The item with this id, or undefined. */
  get(id: string): Promise<Item | undefined>;
  list(page: { limit: number; offset: number }): Promise<ItemPage>;
}
