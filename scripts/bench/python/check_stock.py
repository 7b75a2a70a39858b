"""Stock retriever, as the reference design's handler behaves: prints the event and sets every
item's quantityInStock to a random integer 0-9. Imports only `random`, like the original."""
import random


def lambda_handler(event, context):
    print(event)
    items = event["items"]
    for item in items:
        item["quantityInStock"] = random.randint(0, 9)
    return items
