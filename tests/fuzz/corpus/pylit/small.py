# comment
x = 1
y = -2.5e3
z = 0x1F
s = 'a' "b" r'\d' """tri
ple""" '''t2'''
t = (1, 2,)
l = [True, False, None, {'k': [1, {2, 3}]}]
d = {"a": (), "b": [], 'c': {},}
