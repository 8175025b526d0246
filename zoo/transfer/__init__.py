"""The transfer protocol (issue 25 item 5): render -> fixed fine-tune -> annotated photos.

``zoo transfer NAME --render key=value,...`` measures what a renderer setting does on real faces,
split into label definition and realism; ``zoo.transfer.scoring`` holds the numbers, ``protocol``
the steps, ``run`` the whole run for one setting. It sits above ``zoo.engine`` (it trains) and
``eval`` (it scores), which is why it is a unit of its own rather than part of ``eval``.
"""
