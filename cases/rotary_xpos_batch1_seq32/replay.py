"""x-transformers #305: a Decoder with rotary_pos_emb and rotary_xpos on a (batch, seq) batch of tokens.

Needs only the packages under test. Run it alone with ``python replay.py``; the harness calls
``replay(**parameters)`` with the parameters from case.toml (and each point of its sweep).
"""

import torch
from x_transformers import Decoder, TransformerWrapper


def replay(batch: int = 1, seq: int = 32, positions: str = "default") -> None:
    torch.manual_seed(0)
    model = TransformerWrapper(
        num_tokens=256,
        max_seq_len=max(seq, 64),
        attn_layers=Decoder(dim=32, depth=1, heads=2, rotary_pos_emb=True, rotary_xpos=True),
    )
    tokens = torch.randint(0, 256, (batch, seq))
    with torch.no_grad():
        if positions == "explicit":
            # One row of positions per batch element, handed to the attention layers directly.
            rows = torch.arange(seq).expand(batch, seq)
            hidden = model.attn_layers(model.token_emb(tokens), pos=rows)
            assert hidden.shape == (batch, seq, 32), hidden.shape
        else:
            logits = model(tokens)
            assert logits.shape == (batch, seq, 256), logits.shape


if __name__ == "__main__":
    replay()
